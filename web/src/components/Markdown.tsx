import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useMemo } from 'react';

// Markdown comes from users and from AI responses, so the HTML it turns into is sanitised before
// it reaches the page. Scripts, event handlers and javascript: links are removed.
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true, breaks: true }) as string;
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input'] });
}

// Search snippets are HTML from the API with <mark> around matched words; only that survives.
export function sanitizeSnippet(html: string): string {
  return DOMPurify.sanitize(html, { ALLOWED_TAGS: ['mark', 'b', 'em'], ALLOWED_ATTR: [] });
}

export function Markdown({ text }: { text: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div className="markdown text-sm leading-relaxed" dangerouslySetInnerHTML={{ __html: html }} />;
}
