// The web inbox against a real handoff-server and the WhatsApp sandbox (scripts/web-e2e.sh).
// Every test has its own browser contexts and its own customers (distinct wa_ids), so
// they run in any order and in parallel.
import { expect, test } from '@playwright/test';
import {
  AGENTS,
  SESSION_KEY,
  claimIfWaiting,
  conversationList,
  conversationRow,
  customerSays,
  escalateAndClaim,
  login,
  messages,
  newCustomer,
  openConversation,
  sentTexts,
  waitForRow,
  withPage,
} from './helpers';

test('a customer asks for a person: the conversation arrives live, is claimed and answered', async ({
  page,
  request,
}) => {
  const { waId, customer } = newCustomer('4915100000101', 'Alma Reyes');
  const reply = 'Hello from the web inbox';

  await login(page, 'ana');
  await customerSays(request, waId, customer, 'I want to talk to a human');

  // Live: the list updates over the event stream, without a reload.
  await waitForRow(page, customer);
  const t = await openConversation(page, customer);
  await expect(messages(page).getByText('I want to talk to a human')).toBeVisible();

  const panel = t.getByRole('complementary', { name: 'Escalation' });
  await expect(panel).toBeVisible();
  await expect(panel.getByText('Customer asked for a person', { exact: true })).toBeVisible();
  await expect(panel.getByText('Customer asked for a person ("human")')).toBeVisible();

  await claimIfWaiting(page, customer);
  const composer = t.getByRole('combobox', { name: 'Reply' });
  await expect(composer).toBeEnabled();
  await composer.fill(reply);
  await t.getByRole('button', { name: 'Send', exact: true }).click();

  const bubble = messages(page).getByText(reply, { exact: true });
  await expect(bubble).toBeVisible();
  await expect(composer).toHaveValue('');
  // WhatsApp (the sandbox) got it exactly once, and its confirmation came back.
  await expect.poll(async () => (await sentTexts(request, waId)).filter((s) => s === reply).length).toBe(1);
  const sent = messages(page).getByTestId('message').filter({ hasText: reply });
  await expect(sent.getByTestId('message-status')).toContainText(/Sent|Delivered|Read/);
  expect((await sentTexts(request, waId)).filter((s) => s === reply)).toHaveLength(1);
});

test('a note mentions Ben, and a transfer hands him the conversation with a note', async ({
  page,
  request,
  browser,
}) => {
  const { waId, customer } = newCustomer('4915100000102', 'Bruno Keller');
  const transferNote = 'Refund approved, please send the return label';

  await withPage(browser, async (ben) => {
    await login(ben, 'ben');
    await login(page, 'ana');
    const t = await escalateAndClaim(page, request, waId, customer);

    // An internal note with an @mention picked from the suggestions.
    await t.getByRole('button', { name: 'Note', exact: true }).click();
    const note = t.getByRole('combobox', { name: 'Internal note' });
    await note.pressSequentially('Can you check the order, @be');
    const suggestions = t.getByRole('listbox', { name: 'Colleagues to mention' });
    await expect(suggestions).toBeVisible();
    await suggestions.getByRole('option', { name: new RegExp(AGENTS.ben.name) }).click();
    await expect(note).toHaveValue(/@ben\b/);
    await note.pressSequentially('please?');
    await t.getByRole('button', { name: 'Add note', exact: true }).click();
    const card = messages(page).getByTestId('internal-note').filter({ hasText: 'Can you check the order' });
    await expect(card).toBeVisible();
    await expect(card).toContainText('@ben');

    // Ben is told, live.
    await expect(ben.getByText(/mentioned you/).first()).toBeVisible();

    // Transfer to Ben with a note.
    await t.getByRole('button', { name: 'Transfer' }).click();
    const dialog = page.getByRole('dialog', { name: 'Transfer conversation' });
    await expect(dialog).toBeVisible();
    const target = dialog.getByLabel('Transfer to');
    const option = target.locator('option', { hasText: AGENTS.ben.name });
    await expect(option).toBeAttached();
    await target.selectOption((await option.getAttribute('value'))!);
    await dialog.getByLabel(/Note for whoever takes over/).fill(transferNote);
    await dialog.getByRole('button', { name: 'Transfer', exact: true }).click();
    await expect(dialog).toBeHidden();

    // Ben: the conversation arrives, his, with the note on top.
    await waitForRow(ben, customer);
    const bt = await openConversation(ben, customer);
    await expect(bt.getByText('Assigned to you', { exact: true })).toBeVisible();
    await expect(bt.getByRole('note').filter({ hasText: transferNote })).toBeVisible();
    await expect(messages(ben).getByTestId('internal-note').filter({ hasText: '@ben' })).toBeVisible();
    await expect(bt.getByRole('combobox', { name: 'Reply' })).toBeEnabled();
  });
});

test('resolving hands the conversation back to the bot', async ({ page, request }) => {
  const { waId, customer } = newCustomer('4915100000103', 'Chloe Martin');

  await login(page, 'ana');
  const t = await escalateAndClaim(page, request, waId, customer);
  await t.getByRole('button', { name: 'Resolve', exact: true }).click();
  await t.getByLabel(/Resolution note/).fill('Answered in the end-to-end test');
  await t.getByRole('button', { name: 'Resolve and return to bot' }).click();

  await expect(t.getByText(/Resolved\. The conversation went back to automation/)).toBeVisible();
  const panel = t.getByRole('complementary', { name: 'Escalation' });
  await expect(panel.getByText('Resolved', { exact: true }).first()).toBeVisible();
  await expect(t.getByRole('button', { name: 'Resolve', exact: true })).toHaveCount(0);
  await expect(t.getByRole('combobox', { name: 'Reply' })).toBeDisabled();
});

test('a wrong password shows the error and starts no session', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Email').fill(AGENTS.maya.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
  await expect(page.getByLabel('Password')).toBeVisible();
  await expect(conversationList(page)).toHaveCount(0);
  expect(await page.evaluate((key) => sessionStorage.getItem(key), SESSION_KEY)).toBeNull();
  await page.reload();
  await expect(page.getByLabel('Password')).toBeVisible();
});

test('a reload keeps the session (sessionStorage, per tab)', async ({ page, context, request }) => {
  const { waId, customer } = newCustomer('4915100000105', 'Emil Novak');

  await login(page, 'maya');
  await customerSays(request, waId, customer, 'I want to talk to a human');
  await waitForRow(page, customer);
  expect(await page.evaluate((key) => sessionStorage.getItem(key), SESSION_KEY)).not.toBeNull();

  await page.reload();
  await expect(page.getByText(AGENTS.maya.name, { exact: true }).first()).toBeVisible();
  await expect(page.getByLabel('Password')).toHaveCount(0);
  await expect(conversationRow(page, customer)).toBeVisible();
  await openConversation(page, customer);

  // Not in localStorage: another tab starts at the login form.
  const other = await context.newPage();
  await other.goto('/');
  await expect(other.getByLabel('Password')).toBeVisible();
  await other.close();
});
