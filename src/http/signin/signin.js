// Sign in once with an operator token; the server answers with an HttpOnly, SameSite=Strict
// session cookie. Then back to the page that asked (a path of this site only).
const form = document.getElementById('signin');
const error = document.getElementById('error');
const next = new URLSearchParams(location.search).get('next');
// A path of this site only: not //host, and not /\host (browsers read a backslash as a slash).
const target = next && /^\/(?![/\\])/.test(next) ? next : '/dashboard';
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  error.hidden = true;
  const res = await fetch('/api/v1/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: document.getElementById('token').value.trim() }),
  });
  if (res.ok) {
    location.assign(target);
    return;
  }
  const body = await res.json().catch(() => ({}));
  error.textContent = body.error || `${res.status} ${res.statusText}`;
  error.hidden = false;
});
