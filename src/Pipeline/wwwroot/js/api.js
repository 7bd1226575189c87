// The query API, and the session: a 401 sends the browser to sign in.
import { $ } from './dom.js';

export const SIGN_IN = '/signin.html';

/** A 401 means the session's token is gone (signed out elsewhere, or rotated): back to the sign-in page. */
export function signedOut(response) {
  if (response.status === 401) location.assign(SIGN_IN);
  return response.status === 401;
}

export async function api(path) {
  const response = await fetch(path);
  if (signedOut(response)) throw new Error('signed out');
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status}`);
  return body;
}

/** With read tokens on, a browser without a session goes to sign in; with one, it gets a sign-out button. */
export async function session() {
  const current = await api('/api/session');
  if (current.authentication && !current.signedIn) {
    location.assign(SIGN_IN);
    return false;
  }
  const button = $('signout');
  button.hidden = !current.authentication;
  button.title = current.name ? `Signed in as ${current.name} (${current.scripts})` : '';
  button.addEventListener('click', async () => {
    await fetch('/api/session', { method: 'DELETE' });
    location.assign(SIGN_IN);
  });
  return true;
}
