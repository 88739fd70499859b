/**
 * The passkey script, served as /static/passkeys.js after the @simplewebauthn/browser bundle
 * (the CSP allows no inline script and no eval): registers a passkey, and signs approvals and
 * unfreeze votes. The server gives the challenge (the hash of the custody statement); the
 * authenticator signs it; custody verifies the assertion. Pages without passkey controls
 * ignore it.
 */
export const PASSKEYS_JS = `'use strict';
(function () {
  var lib = window.SimpleWebAuthnBrowser;
  function csrf() {
    var i = document.querySelector('input[name=_csrf]');
    return i ? i.value : '';
  }
  function say(el, text, bad) {
    if (!el) return;
    el.textContent = text;
    el.className = bad ? 'alert' : '';
  }
  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf() },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j.error && j.error.message) || ('HTTP ' + r.status));
        return j;
      });
    });
  }
  function getJson(url) {
    return fetch(url).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j.error && j.error.message) || ('HTTP ' + r.status));
        return j;
      });
    });
  }
  var form = document.querySelector('[data-passkey-register]');
  if (form) {
    var status = document.querySelector('[data-passkey-status]');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var label = form.querySelector('input[name=label]').value;
      if (!lib || !lib.browserSupportsWebAuthn()) {
        say(status, 'This browser does not support passkeys.', true);
        return;
      }
      say(status, 'Waiting for your authenticator…');
      post('/api/v1/passkeys/options')
        .then(function (options) { return lib.startRegistration({ optionsJSON: options }); })
        .then(function (response) { return post('/api/v1/passkeys/register', { label: label, response: response }); })
        .then(function (doc) {
          say(status, 'Registered: ' + doc.id);
          window.location.reload();
        })
        .catch(function (e) { say(status, 'Not registered: ' + e.message, true); });
    });
  }
  function signWith(challengeUrl, postUrl, statusEl) {
    if (!lib || !lib.browserSupportsWebAuthn()) {
      say(statusEl, 'This browser does not support passkeys.', true);
      return;
    }
    say(statusEl, 'Waiting for your authenticator…');
    getJson(challengeUrl)
      .then(function (c) {
        return lib.startAuthentication({ optionsJSON: c.options }).then(function (a) {
          return post(postUrl, {
            at: c.at,
            credentialId: a.id,
            authenticatorData: a.response.authenticatorData,
            clientDataJSON: a.response.clientDataJSON,
            signature: a.response.signature
          });
        });
      })
      .then(function (r) {
        say(statusEl, r.message || 'Signed.');
        window.location.reload();
      })
      .catch(function (e) { say(statusEl, 'Not signed: ' + e.message, true); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('button[data-approve]'), function (b) {
    b.addEventListener('click', function () {
      var id = b.getAttribute('data-approve');
      signWith('/api/v1/custody/withdrawals/' + id + '/challenge',
        '/api/v1/custody/withdrawals/' + id + '/approve',
        document.querySelector('[data-approve-status]'));
    });
  });
  var vote = document.querySelector('button[data-unfreeze-vote]');
  if (vote) {
    vote.addEventListener('click', function () {
      signWith('/api/v1/custody/unfreeze-votes/challenge', '/api/v1/custody/unfreeze-votes',
        document.querySelector('[data-unfreeze-status]'));
    });
  }
})();
`;
