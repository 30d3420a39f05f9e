import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { getPassword } from '../api/client';
import { fakeApi, renderWithQuery } from '../test/fakeApi';
import { LoginPage } from './LoginPage';

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe('LoginPage', () => {
  it('says when the password is wrong and keeps nothing', async () => {
    fakeApi({ 'GET /api/notebooks': () => ({ status: 401, body: { detail: 'Invalid password' } }) });
    const onLoggedIn = vi.fn();
    renderWithQuery(<LoginPage onLoggedIn={onLoggedIn} />);
    await userEvent.type(screen.getByLabelText('Password'), 'guess');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Wrong password.');
    expect(onLoggedIn).not.toHaveBeenCalled();
    expect(getPassword()).toBeNull();
  });

  it('keeps a correct password for this tab only', async () => {
    fakeApi({ 'GET /api/notebooks': () => ({ body: [] }) });
    const onLoggedIn = vi.fn();
    renderWithQuery(<LoginPage onLoggedIn={onLoggedIn} />);
    await userEvent.type(screen.getByLabelText('Password'), 'right one');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await vi.waitFor(() => expect(onLoggedIn).toHaveBeenCalled());
    expect(sessionStorage.getItem('open-notebook.password')).toBe('right one');
    expect(localStorage.getItem('open-notebook.password')).toBeNull();
  });
});
