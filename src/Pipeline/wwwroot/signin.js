// The sign-in page: says when the last token was refused; the form itself posts to /api/session.
document.getElementById('signin-failed').hidden = !new URLSearchParams(location.search).has('failed');
