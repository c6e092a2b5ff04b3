import { describe, expect, it } from 'vitest';
import { csvCell, csvFileName, csvTime, toCsv, type CsvColumn } from './csv';

interface Row {
  name: string;
  count: number | null;
  note?: string;
}

const columns: CsvColumn<Row>[] = [
  { header: 'Name', value: (r) => r.name },
  { header: 'Count', value: (r) => r.count },
  { header: 'Note', value: (r) => r.note },
];

describe('toCsv', () => {
  it('writes a header and one CRLF-terminated line per row', () => {
    expect(toCsv(columns, [{ name: 'Ana', count: 3, note: 'ok' }, { name: 'Ben', count: 0 }])).toBe(
      'Name,Count,Note\r\nAna,3,ok\r\nBen,0,\r\n',
    );
  });

  it('with no rows, still the header', () => {
    expect(toCsv(columns, [])).toBe('Name,Count,Note\r\n');
  });

  it('quotes cells with commas, quotes and line breaks, doubling quotes', () => {
    const csv = toCsv(columns, [
      { name: 'Lopez, Maria', count: 1, note: 'said "hi"' },
      { name: 'two\nlines', count: 2, note: 'cr\rhere' },
    ]);
    expect(csv).toBe('Name,Count,Note\r\n"Lopez, Maria",1,"said ""hi"""\r\n"two\nlines",2,"cr\rhere"\r\n');
  });

  it('keeps text that starts like a formula as text', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvCell('+1 555 0100')).toBe("'+1 555 0100");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    // Not at the start: harmless.
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('Maria')).toBe('Maria');
  });

  it('numbers stay numbers (a negative number is no formula); empty for null and non-finite', () => {
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(0.125)).toBe('0.125');
    expect(csvCell(Number.NaN)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(true)).toBe('true');
  });
});

describe('csvFileName / csvTime', () => {
  it('a safe, dated name', () => {
    const at = new Date(2025, 2, 12, 14, 5).getTime();
    expect(csvFileName('board-queue', at)).toBe('board-queue-2025-03-12-1405.csv');
    expect(csvFileName('Breaches / by team!', at)).toBe('breaches-by-team-2025-03-12-1405.csv');
    expect(csvFileName('***', at)).toBe('export-2025-03-12-1405.csv');
  });

  it('ISO times, empty for none', () => {
    expect(csvTime(Date.UTC(2025, 2, 12, 15, 0, 0))).toBe('2025-03-12T15:00:00.000Z');
    expect(csvTime(null)).toBe('');
  });
});
