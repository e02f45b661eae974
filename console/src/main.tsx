// The operator console: one page app over the gateway's own API, served by
// the gateway at /console. Hash routes (#/keys) keep reloads on the same
// page without server routes.
import "uplot/dist/uPlot.min.css";
import "./style.css";

import type { SwitchyardClient } from "@switchyard/sdk/web";
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";

import { detectMode, errorText, makeClient, storedKey, storeKey } from "./api";
import type { Mode } from "./api";
import { Alerts } from "./pages/alerts";
import { Keys } from "./pages/keys";
import { Live } from "./pages/live";
import { Overview } from "./pages/overview";
import { Providers } from "./pages/providers";
import { Routes } from "./pages/routes";
import { Usage } from "./pages/usage";

performance.mark("console:start");

const PAGES = [
  { id: "overview", title: "Overview" },
  { id: "providers", title: "Providers" },
  { id: "routes", title: "Routes" },
  { id: "keys", title: "Keys" },
  { id: "usage", title: "Usage" },
  { id: "alerts", title: "Alerts" },
  { id: "live", title: "Live requests" },
] as const;

type PageId = (typeof PAGES)[number]["id"];

function currentPage(): PageId {
  const id = location.hash.replace(/^#\/?/, "");
  return (PAGES.find((p) => p.id === id)?.id ?? "overview") as PageId;
}

type Theme = "light" | "dark";

function initialTheme(): Theme {
  const saved = localStorage.getItem("switchyard.console.theme");
  if (saved === "light" || saved === "dark") return saved;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function App() {
  const [key, setKey] = useState(storedKey());
  const client = useMemo(() => makeClient(key), [key]);
  const [mode, setMode] = useState<Mode | "checking">("checking");
  const [err, setErr] = useState("");
  const [page, setPage] = useState<PageId>(currentPage());
  const [theme, setTheme] = useState<Theme>(initialTheme());

  useEffect(() => {
    const on = () => setPage(currentPage());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("switchyard.console.theme", theme);
  }, [theme]);
  useEffect(() => {
    setMode("checking");
    detectMode(client, key).then(
      (m) => {
        setErr("");
        setMode(m);
      },
      (e) => {
        setErr(errorText(e));
        setMode("login");
      },
    );
  }, [client, key]);
  useEffect(() => {
    const title = PAGES.find((p) => p.id === page)?.title;
    document.title = `${title} · Switchyard console`;
  }, [page]);

  const signOut = () => {
    storeKey("");
    setKey("");
  };

  return (
    <div class="app">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Switchyard</span>
        {mode === "admin" && (
          <nav aria-label="Pages">
            {PAGES.map((p) => (
              <a href={`#/${p.id}`} aria-current={p.id === page ? "page" : undefined}>
                {p.title}
              </a>
            ))}
          </nav>
        )}
        <div class="tools">
          {mode === "client" && <span class="badge s-half-open">client key: read-only</span>}
          {mode === "admin" && !key && <span class="badge s-half-open" title="No admin key is set: loopback callers administer the gateway">keyless loopback</span>}
          <button type="button" onClick={() => setTheme(theme === "dark" ? "light" : "dark")} aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}>
            {theme === "dark" ? "☀ Light" : "☾ Dark"}
          </button>
          {key && (
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {mode === "checking" && (
          <div class="state loading" role="status">
            Connecting to the gateway…
          </div>
        )}
        {mode === "login" && (
          <Login
            error={err || (key ? "That key cannot read this gateway's console." : "")}
            onKey={(k) => {
              storeKey(k);
              setKey(k);
            }}
          />
        )}
        {mode === "client" && <Usage c={client} readOnly />}
        {mode === "admin" && <AdminPage page={page} c={client} />}
      </main>
    </div>
  );
}

function AdminPage({ page, c }: { page: PageId; c: SwitchyardClient }) {
  const [labels, setLabels] = useState(new Map<string, string>());
  useEffect(() => {
    if (page !== "live") return;
    c.services.keys.listKeys({ includeRevoked: true }).then(
      (r) => setLabels(new Map(r.keys.map((k) => [k.id, k.name || k.id]))),
      () => undefined, // labels are a nicety: ids still show
    );
  }, [c, page]);
  switch (page) {
    case "providers":
      return <Providers c={c} />;
    case "routes":
      return <Routes c={c} />;
    case "keys":
      return <Keys c={c} />;
    case "usage":
      return <Usage c={c} />;
    case "alerts":
      return <Alerts c={c} />;
    case "live":
      return <Live c={c} labels={labels} />;
    default:
      return <Overview c={c} />;
  }
}

function Login({ error, onKey }: { error: string; onKey: (k: string) => void }) {
  const [v, setV] = useState("");
  return (
    <form
      class="panel login"
      aria-label="Sign in"
      onSubmit={(e) => {
        e.preventDefault();
        onKey(v.trim());
      }}
    >
      <h1>Sign in</h1>
      <p>
        Enter the admin key (SWITCHYARD_ADMIN_KEY) for the whole console, or a client key to see its own usage. It is kept in this tab's
        sessionStorage only.
      </p>
      <label>
        Key
        <input name="key" type="password" autoComplete="off" required value={v} onInput={(e) => setV((e.target as HTMLInputElement).value)} autoFocus />
      </label>
      <button type="submit" class="primary">
        Sign in
      </button>
      {error && (
        <div class="notice error" role="alert">
          {error}
        </div>
      )}
    </form>
  );
}

render(<App />, document.getElementById("app")!);
