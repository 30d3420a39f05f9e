// The one way the UI talks to the API: base address from GET /config, the password as a bearer
// token, and errors as ApiError carrying the API's `detail`.

// Storage of the password: sessionStorage, under PASSWORD_KEY. The API has no sessions or tokens
// because the password itself is the bearer on every request, so the browser must hold it.
// sessionStorage keeps it for this tab only and drops it when the tab closes, unlike localStorage,
// which would leave it on disk for every later visitor of the browser profile. Scripts from other
// origins cannot read it, and the UI server's Content-Security-Policy allows scripts from this
// origin only, so an injected script has no way in through rendered Markdown or search snippets
// (both are sanitised as well).
const PASSWORD_KEY = 'open-notebook.password';

let apiBase = '';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, detail: string) {
    super(detail);
    this.status = status;
  }
}

export function getPassword(): string | null {
  try {
    return sessionStorage.getItem(PASSWORD_KEY);
  } catch {
    return null;
  }
}

export function setPassword(password: string | null): void {
  try {
    if (password === null) sessionStorage.removeItem(PASSWORD_KEY);
    else sessionStorage.setItem(PASSWORD_KEY, password);
  } catch {
    // Storage disabled: the password lasts until the page reloads.
  }
}

export const AUTH_REQUIRED_EVENT = 'open-notebook:auth-required';

// Reads the API address from the UI server. An empty apiUrl means this origin, whose /api the
// UI server forwards.
export async function loadConfig(): Promise<string> {
  try {
    const response = await fetch('/config', { headers: { Accept: 'application/json' } });
    if (response.ok) {
      const body = (await response.json()) as { apiUrl?: string };
      apiBase = (body.apiUrl ?? '').replace(/\/+$/, '');
    }
  } catch {
    apiBase = '';
  }
  return apiBase;
}

export function apiUrl(path: string): string {
  return `${apiBase}/api${path}`;
}

interface RequestOptions {
  method?: string;
  json?: unknown;
  form?: FormData;
  signal?: AbortSignal;
  password?: string;
}

function headersFor(options: RequestOptions): Headers {
  const headers = new Headers({ Accept: 'application/json' });
  const password = options.password ?? getPassword();
  if (password) headers.set('Authorization', `Bearer ${password}`);
  if (options.json !== undefined) headers.set('Content-Type', 'application/json');
  return headers;
}

async function errorFrom(response: Response): Promise<ApiError> {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === 'string') detail = body.detail;
    else if (body.detail !== undefined) detail = JSON.stringify(body.detail);
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(response.status, detail);
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const init: RequestInit = { method: options.method ?? 'GET', headers: headersFor(options) };
  if (options.signal) init.signal = options.signal;
  if (options.json !== undefined) init.body = JSON.stringify(options.json);
  if (options.form) init.body = options.form;
  const response = await fetch(apiUrl(path), init);
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && options.password === undefined) {
      setPassword(null);
      window.dispatchEvent(new Event(AUTH_REQUIRED_EVENT));
    }
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

// Downloads a file route with the password header (a plain link could not send it) and hands the
// bytes to the browser's save dialog.
export async function download(path: string, fallbackName: string): Promise<void> {
  const response = await fetch(apiUrl(path), { headers: headersFor({}) });
  if (!response.ok) throw await errorFrom(response);
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const named = /filename\*=UTF-8''([^;]+)/i.exec(disposition) ?? /filename="([^"]+)"/i.exec(disposition);
  const name = named?.[1] ? decodeURIComponent(named[1]) : fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// Posts `body` and calls `onEvent` with the JSON of each server-sent event as it arrives. Comment
// lines (heartbeats) are skipped. Errors before the stream starts are ApiError, as for api().
export async function streamEvents(
  path: string,
  body: unknown,
  onEvent: (event: Record<string, unknown>) => void,
  signal?: AbortSignal,
): Promise<void> {
  const init: RequestInit = { method: 'POST', headers: headersFor({ json: body }), body: JSON.stringify(body) };
  if (signal) init.signal = signal;
  const response = await fetch(apiUrl(path), init);
  if (!response.ok || !response.body) throw await errorFrom(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data) onEvent(JSON.parse(data) as Record<string, unknown>);
    }
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
