// Loading, error and empty states, the same for every panel.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import { errorText } from "./api";

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/** useLoad runs fn on mount, when deps change and on reload; every refreshMs when set. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[], refreshMs = 0): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const gen = useRef(0);
  const run = useCallback(() => {
    const mine = ++gen.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => mine === gen.current && setState({ data, loading: false }),
      (e) => mine === gen.current && setState((s) => ({ data: s.data, error: errorText(e), loading: false })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    run();
    if (refreshMs <= 0) return;
    const t = setInterval(run, refreshMs);
    return () => clearInterval(t);
  }, [run, refreshMs]);
  return { ...state, reload: run };
}

interface PanelProps<T> {
  title: string;
  state: Loaded<T>;
  empty?: (d: T) => boolean;
  emptyText?: ComponentChildren;
  actions?: ComponentChildren;
  children: (d: T) => ComponentChildren;
  id?: string;
}

export function Panel<T>(p: PanelProps<T>) {
  const { data, error, loading } = p.state;
  let body: ComponentChildren;
  if (data === undefined && loading) body = <div class="state loading" role="status">Loading…</div>;
  else if (data === undefined && error)
    body = (
      <div class="state error" role="alert">
        <span>Could not load: {error}</span>{" "}
        <button type="button" onClick={p.state.reload}>Retry</button>
      </div>
    );
  else if (data !== undefined && p.empty?.(data)) body = <div class="state empty">{p.emptyText ?? "Nothing here yet."}</div>;
  else if (data !== undefined) body = p.children(data);
  return (
    <section class="panel" aria-busy={loading} id={p.id} data-panel={p.title}>
      <header>
        <h2>{p.title}</h2>
        <div class="actions">{p.actions}</div>
      </header>
      {error && data !== undefined && <div class="state error" role="alert">Refresh failed: {error}</div>}
      {body}
    </section>
  );
}

export function Notice({ kind, children }: { kind: "ok" | "error"; children: ComponentChildren }) {
  return <div class={`notice ${kind}`} role={kind === "error" ? "alert" : "status"}>{children}</div>;
}
