import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Link, matchRoute, navigate, useLocation } from './router';

function Where() {
  const { path, query } = useLocation();
  return <p data-testid="where">{`${path}|${query.get('q') ?? ''}`}</p>;
}

describe('router', () => {
  it('matches patterns and decodes parameters', () => {
    expect(matchRoute('/notebooks/:id', '/notebooks/notebook%3Aabc')).toEqual({ id: 'notebook:abc' });
    expect(matchRoute('/notebooks/:id', '/notebooks')).toBeNull();
    expect(matchRoute('/search', '/search/')).toEqual({});
    expect(matchRoute('/sources/:id', '/notebooks/x')).toBeNull();
  });

  it('follows links without reloading and keeps the query', async () => {
    render(
      <>
        <Link href="/search?q=paris">go</Link>
        <Where />
      </>,
    );
    await userEvent.click(screen.getByText('go'));
    expect(screen.getByTestId('where').textContent).toBe('/search|paris');
    act(() => navigate('/notebooks'));
    expect(screen.getByTestId('where').textContent).toBe('/notebooks|');
  });
});
