// Actions that components own (focus the reply box, open the transfer dialog, ...),
// reachable by id from the app-wide keyboard shortcuts: a component registers what
// the action does while it is on screen; the shortcut runs the newest registration.

import { getContext, onMount, setContext } from 'svelte';

export type CommandId = 'reply' | 'note' | 'resolve' | 'claim' | 'transfer' | 'search' | 'focus-list';

/** Does the action; false when it cannot right now (e.g. nothing to claim). */
export type CommandHandler = () => boolean | void;

export class Commands {
  private readonly handlers = new Map<CommandId, CommandHandler[]>();

  /** Until the returned function is called, `id` runs `handler` (the newest registration wins). */
  register(id: CommandId, handler: CommandHandler): () => void {
    const list = this.handlers.get(id) ?? [];
    list.push(handler);
    this.handlers.set(id, list);
    return () => {
      const current = this.handlers.get(id);
      if (!current) return;
      const i = current.lastIndexOf(handler);
      if (i >= 0) current.splice(i, 1);
      if (current.length === 0) this.handlers.delete(id);
    };
  }

  /** Runs the action; true if something did it. */
  run(id: CommandId): boolean {
    const list = this.handlers.get(id);
    const handler = list?.[list.length - 1];
    if (!handler) return false;
    return handler() !== false;
  }

  has(id: CommandId): boolean {
    return (this.handlers.get(id)?.length ?? 0) > 0;
  }
}

const KEY = Symbol('commands');

/** In the app's root component: makes `commands` available to every component below. */
export function provideCommands(commands: Commands = new Commands()): Commands {
  setContext(KEY, commands);
  return commands;
}

/**
 * During a component's initialisation: while it is mounted, `id` runs `handler`.
 * Without a provider (a component rendered on its own) it does nothing.
 */
export function useCommand(id: CommandId, handler: CommandHandler): void {
  const commands = getContext<Commands | undefined>(KEY);
  if (!commands) return;
  onMount(() => commands.register(id, handler));
}
