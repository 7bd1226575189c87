// The query API, and the session: a 401 sends the browser to sign in.
import { $ } from './dom.js';
import { enableLake } from './state.js';

export const SIGN_IN = '/signin.html';

/** A 401 means the session's token is gone (signed out elsewhere, or rotated): back to the sign-in page. */
export function signedOut(response) {
  if (response.status === 401) location.assign(SIGN_IN);
  return response.status === 401;
}

/**
 * The JSON answer of a GET. With a <signal>, the request is cancelled when the signal aborts, and an answer that
 * arrives after that is never returned (an AbortError is thrown instead): an older answer cannot overwrite a newer one.
 */
export async function api(path, signal) {
  return (await answer(path, signal)).body;
}

/** The JSON answer of a GET with its response headers. */
export async function answer(path, signal) {
  const response = await fetch(path, { signal });
  if (signedOut(response)) throw new Error('signed out');
  const body = await response.json().catch(() => ({}));
  signal?.throwIfAborted();
  if (!response.ok) throw new Error(body.error ?? `${response.status}`);
  return { body, headers: response.headers };
}

/** The error of a request that was cancelled on purpose: nothing to show. */
export const cancelled = (error) => error?.name === 'AbortError';

/** With read tokens on, a browser without a session goes to sign in; with one, it gets a sign-out button. */
export async function session() {
  const current = await api('/api/session');
  if (current.mode === 'lake') enableLake();
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
