import { render } from '@testing-library/react';
import { Markdown, renderMarkdown, sanitizeSnippet } from './Markdown';

describe('Markdown', () => {
  it('renders headings, emphasis and lists', () => {
    const { container } = render(<Markdown text={'# Title\n\n**bold** and *soft*\n\n- one\n- two'} />);
    expect(container.querySelector('h1')?.textContent).toBe('Title');
    expect(container.querySelector('strong')?.textContent).toBe('bold');
    expect(container.querySelectorAll('li')).toHaveLength(2);
  });

  it('removes scripts, event handlers and javascript: links', () => {
    const html = renderMarkdown(
      '<script>alert(1)</script><img src=x onerror="alert(2)"><iframe src="https://example.com"></iframe>\n\n[click](javascript:alert(3)) <a href="javascript:alert(4)">raw</a>',
    );
    expect(html).toContain('click');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('onerror');
    expect(html).not.toMatch(/href="javascript:/);
    expect(html).not.toContain('<iframe');
  });

  it('keeps only <mark> in search snippets', () => {
    expect(sanitizeSnippet('a <mark>word</mark> <a href="x" onclick="y">b</a><script>z</script>')).toBe('a <mark>word</mark> b');
  });
});
