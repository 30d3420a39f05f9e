// An in-memory stand-in for the API behind fetch, for component tests: each test registers the
// routes it needs and can inspect the requests made.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

// With `events`, the fake returns a text/event-stream of those events, one JSON `data:` line each.
type Handler = (call: Call) => { status?: number; body?: unknown; events?: unknown[] };

export function fakeApi(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const url = new URL(input, 'http://ui.test');
      let body: unknown = undefined;
      if (typeof init?.body === 'string') body = JSON.parse(init.body);
      else if (init?.body instanceof FormData) body = init.body;
      const call: Call = { method: init?.method ?? 'GET', path: decodeURIComponent(url.pathname), query: url.searchParams, body };
      calls.push(call);
      const handler = routes[`${call.method} ${call.path}`];
      if (!handler) return new Response(JSON.stringify({ detail: `no fake for ${call.method} ${call.path}` }), { status: 404 });
      const result = handler(call);
      if (result.events) {
        const text = result.events.map((event) => `: heartbeat\n\ndata: ${JSON.stringify(event)}\n\n`).join('');
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            const bytes = new TextEncoder().encode(text);
            // Split mid-event, as a network would, to exercise the parser's buffering.
            const middle = Math.floor(bytes.length / 2);
            controller.enqueue(bytes.slice(0, middle));
            controller.enqueue(bytes.slice(middle));
            controller.close();
          },
        });
        return new Response(stream, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
      }
      return new Response(JSON.stringify(result.body), { status: result.status ?? 200, headers: { 'Content-Type': 'application/json' } });
    }),
  );
  return calls;
}

export function renderWithQuery(node: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return Object.assign(render(<QueryClientProvider client={client}>{node}</QueryClientProvider>), { client });
}
