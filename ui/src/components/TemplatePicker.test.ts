import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Thread from './Thread.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError, friendlyMessage } from '../lib/errors';
import { FakeBackend } from '../test/fakeBackend';
import { conversation, detail } from '../test/fixtures';
import type { Conversation, Template } from '../lib/types';

function template(overrides: Partial<Template> = {}): Template {
  return {
    name: 'order_update',
    language: 'en_US',
    status: 'APPROVED',
    category: 'UTILITY',
    quality: 'GREEN',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Order news' },
      { type: 'BODY', text: 'Hi {{1}}, your order {{2}} is on its way. Thanks, {{1}}!' },
      { type: 'FOOTER', text: 'Acme' },
    ],
    rejection_reason: null,
    updated_at: 1,
    ...overrides,
  };
}

const TEMPLATES: Template[] = [
  template(),
  template({ name: 'welcome', language: 'es', components: [{ type: 'BODY', text: 'Hola, ¿seguimos?' }] }),
  template({
    name: 'spring_sale',
    category: 'MARKETING',
    components: [{ type: 'BODY', text: 'Hi {{1}}, 20% off this week!' }],
  }),
  template({ name: 'pending_one', status: 'PENDING' }),
  template({ name: 'rejected_one', status: 'REJECTED', rejection_reason: 'INVALID_FORMAT' }),
];

async function open(
  opts: { templates?: Template[]; conversation?: Partial<Conversation>; lastInboundAt?: number | null } = {},
) {
  const d = detail({
    conversation: conversation({
      last_inbound_at: opts.lastInboundAt === undefined ? Date.now() - 25 * 3_600_000 : opts.lastInboundAt,
      ...opts.conversation,
    }),
  });
  const backend = new FakeBackend({ details: [d], templates: opts.templates ?? TEMPLATES });
  const inbox = new Inbox(backend);
  await inbox.start();
  await inbox.select(1);
  render(Thread, { inbox });
  return { backend, inbox, user: userEvent.setup() };
}

async function picker() {
  const el = screen.getByTestId('template-picker');
  await waitFor(() => expect(el.querySelector('#template-select')).toBeInTheDocument());
  return {
    el,
    select: el.querySelector<HTMLSelectElement>('#template-select')!,
    send: () => el.querySelector<HTMLButtonElement>('#send-template')!,
    param: (n: number) => el.querySelector<HTMLInputElement>(`#template-param-${n}`),
  };
}

const key = (name: string, language = 'en_US') => JSON.stringify([name, language]);

describe('TemplatePicker', () => {
  it('shows below the closed-window notice, only for my assigned conversation', async () => {
    await open();
    const closed = screen.getByTestId('window-closed');
    const el = screen.getByTestId('template-picker');
    expect(closed.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it.each([
    ['the window is open', { lastInboundAt: Date.now() - 60_000 }],
    ['someone else has it', { conversation: { assignee_id: 99 } }],
    ['it is waiting for assignment', { conversation: { state: 'waiting', assignee_id: null } as Partial<Conversation> }],
    ['the bot handles it', { conversation: { state: 'automation', assignee_id: null, active_handoff_id: null } as Partial<Conversation> }],
  ])('is not shown when %s', async (_case, opts) => {
    const { backend } = await open(opts);
    expect(screen.queryByTestId('template-picker')).not.toBeInTheDocument();
    expect(backend.templates).not.toHaveBeenCalled();
  });

  it('loads the templates once and lists only approved ones, with language and category', async () => {
    const { backend, inbox } = await open();
    const { select } = await picker();
    const options = within(select).getAllByRole('option');
    const values = options.map((o) => (o as HTMLOptionElement).value).filter(Boolean);
    expect(values).toEqual([key('order_update'), key('welcome', 'es'), key('spring_sale')]);
    expect(within(select).getByRole('option', { name: /order_update \(en_US\)/ })).toHaveTextContent('UTILITY');
    expect(within(select).getByRole('option', { name: /spring_sale \(en_US\)/ })).toHaveTextContent('MARKETING');
    expect(select).not.toHaveTextContent('pending_one');
    expect(select).not.toHaveTextContent('rejected_one');
    await inbox.loadThread(1);
    await inbox.loadTemplates();
    expect(backend.templates).toHaveBeenCalledTimes(1);
  });

  it('shows a loading state, then "No approved templates yet"', async () => {
    const { backend } = await open({ templates: [template({ status: 'PENDING' })] });
    // the first render is before templates() resolved
    expect(backend.templates).toHaveBeenCalledTimes(1);
    expect(await screen.findByTestId('templates-empty')).toHaveTextContent('No approved templates yet');
    expect(document.querySelector('#template-select')).not.toBeInTheDocument();
  });

  it('shows loading while templates() is pending', async () => {
    const d = detail({ conversation: conversation({ last_inbound_at: null }) });
    const backend = new FakeBackend({ details: [d], templates: TEMPLATES });
    let release: () => void = () => {};
    backend.templates.mockImplementationOnce(
      () => new Promise((resolve) => (release = () => resolve(structuredClone(TEMPLATES)))),
    );
    const inbox = new Inbox(backend);
    await inbox.start();
    await inbox.select(1);
    render(Thread, { inbox });
    expect(await screen.findByTestId('templates-loading')).toHaveTextContent('Loading templates…');
    release();
    await picker();
    expect(screen.queryByTestId('templates-loading')).not.toBeInTheDocument();
  });

  it('one labelled input per distinct placeholder, a live preview, send disabled until filled', async () => {
    const { user } = await open();
    const { el, select, send, param } = await picker();
    expect(send()).toBeDisabled();

    await user.selectOptions(select, key('order_update'));
    const inputs = el.querySelectorAll('input[id^="template-param-"]');
    expect([...inputs].map((i) => i.id)).toEqual(['template-param-1', 'template-param-2']);
    expect(param(1)).toHaveAccessibleName('Value for {{1}}');
    expect(param(2)).toHaveAccessibleName('Value for {{2}}');

    const preview = screen.getByTestId('template-preview');
    expect(preview.textContent?.trim()).toBe('Hi {{1}}, your order {{2}} is on its way. Thanks, {{1}}!');
    expect(send()).toBeDisabled();

    await user.type(param(1)!, 'Maria');
    expect(preview.textContent?.trim()).toBe('Hi Maria, your order {{2}} is on its way. Thanks, Maria!');
    expect(send()).toBeDisabled();

    await user.type(param(2)!, '   ');
    expect(send()).toBeDisabled(); // blank is not filled
    await user.clear(param(2)!);
    await user.type(param(2)!, '#88');
    expect(preview.textContent?.trim()).toBe('Hi Maria, your order #88 is on its way. Thanks, Maria!');
    expect(send()).toBeEnabled();
  });

  it('a template without placeholders can be sent at once', async () => {
    const { user, backend } = await open();
    const { select, send, param } = await picker();
    await user.selectOptions(select, key('welcome', 'es'));
    expect(param(1)).not.toBeInTheDocument();
    expect(screen.getByTestId('template-preview')).toHaveTextContent('Hola, ¿seguimos?');
    await user.click(send());
    expect(backend.sendTemplate).toHaveBeenCalledWith(1, 'welcome', 'es', []);
  });

  it('sends the template with its parameters, clears the inputs and reloads the thread', async () => {
    const { user, backend } = await open();
    const { select, send, param } = await picker();
    await user.selectOptions(select, key('order_update'));
    await user.type(param(1)!, 'Maria');
    await user.type(param(2)!, '#88');
    const loads = backend.getThread.mock.calls.length;
    await user.click(send());

    expect(backend.sendTemplate).toHaveBeenCalledTimes(1);
    expect(backend.sendTemplate).toHaveBeenCalledWith(1, 'order_update', 'en_US', ['Maria', '#88']);
    await waitFor(() => expect(param(1)).toHaveValue(''));
    expect(param(2)).toHaveValue('');
    expect(send()).toBeDisabled();
    await waitFor(() => expect(backend.getThread.mock.calls.length).toBeGreaterThan(loads));
    const last = screen.getAllByTestId('message').at(-1)!;
    expect(last).toHaveAttribute('data-author', 'agent');
  });

  it.each(['template_not_approved', 'marketing_opt_out', 'window_closed'] as const)(
    'shows the friendly message when sending fails with %s',
    async (code) => {
      const { user, backend } = await open();
      const { select, send, param } = await picker();
      await user.selectOptions(select, key('order_update'));
      await user.type(param(1)!, 'Maria');
      await user.type(param(2)!, '#88');
      backend.failures.set('sendTemplate', new BackendError(code, 'server says no'));
      await user.click(send());
      const alert = await screen.findByRole('alert');
      expect(alert).toHaveAttribute('data-error-code', code);
      expect(alert).toHaveTextContent(friendlyMessage(code));
      expect(alert).not.toHaveTextContent('server says no');
      // the values stay, to try again
      expect(param(1)).toHaveValue('Maria');
    },
  );

  it('shows the friendly message when templates cannot be loaded, and retries', async () => {
    const d = detail({ conversation: conversation({ last_inbound_at: null }) });
    const backend = new FakeBackend({ details: [d], templates: TEMPLATES });
    backend.failures.set('templates', new BackendError('network', 'offline'));
    const inbox = new Inbox(backend);
    await inbox.start();
    await inbox.select(1);
    render(Thread, { inbox });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'network');
    await fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await picker();
    expect(backend.templates).toHaveBeenCalledTimes(2);
  });

  it('marks marketing templates unavailable when the customer opted out', async () => {
    const { user, backend } = await open({
      conversation: {
        contact: { id: 11, wa_id: '15551230001', bsuid: null, name: 'Maria', attributes: { marketing_opt_out: true } },
      },
    });
    const { select, send } = await picker();
    const marketing = within(select).getByRole('option', { name: /spring_sale/ });
    expect(marketing).toBeDisabled();
    expect(marketing).toHaveTextContent('(customer opted out)');
    const utility = within(select).getByRole('option', { name: /order_update/ });
    expect(utility).toBeEnabled();
    expect(utility).not.toHaveTextContent('opted out');
    expect(screen.getByTestId('marketing-opt-out')).toBeInTheDocument();
    await user.selectOptions(select, key('spring_sale')).catch(() => {});
    expect(send()).toBeDisabled();
    expect(backend.sendTemplate).not.toHaveBeenCalled();
  });

  it('marketing templates are available when the customer did not opt out', async () => {
    await open();
    const { select } = await picker();
    const marketing = within(select).getByRole('option', { name: /spring_sale/ });
    expect(marketing).toBeEnabled();
    expect(marketing).not.toHaveTextContent('opted out');
  });
});
