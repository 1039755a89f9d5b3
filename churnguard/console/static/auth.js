// Sign-in for the deployed console: OAuth 2.0 authorization code with PKCE against the Cognito user
// pool's sign-in pages. Locally (config.auth is null) it does nothing. The access token lives in this
// page's memory only (never in storage a script or another tab could read later) and is sent as a
// bearer token to the API, whose JWT authorizer checks it; a reload signs in again, silently while the
// Cognito session lasts. Only the PKCE verifier crosses the sign-in redirect, in sessionStorage, and is
// removed when it is used. Sign-out ends the Cognito session too (its /logout endpoint).
"use strict";

(function () {
  const VERIFIER = "churnguard.pkce";
  let auth = null;
  let saved = null; // {access, expires}: in memory only

  function base64url(bytes) {
    return btoa(String.fromCharCode(...new Uint8Array(bytes)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  }

  async function signIn() {
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
    sessionStorage.setItem(VERIFIER, JSON.stringify({ verifier, state }));
    const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const query = new URLSearchParams({
      response_type: "code",
      client_id: auth.client_id,
      redirect_uri: auth.redirect_uri,
      scope: "openid",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    window.location.assign(`${auth.domain}/oauth2/authorize?${query}`);
  }

  async function redeem(code, state) {
    const pending = JSON.parse(sessionStorage.getItem(VERIFIER) || "{}");
    sessionStorage.removeItem(VERIFIER);
    if (!pending.verifier || pending.state !== state) throw new Error("the sign-in answer does not match this tab");
    const response = await fetch(`${auth.domain}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: auth.client_id,
        code,
        redirect_uri: auth.redirect_uri,
        code_verifier: pending.verifier,
      }),
    });
    if (!response.ok) throw new Error(`sign-in failed (${response.status})`);
    const tokens = await response.json();
    saved = { access: tokens.access_token, expires: Date.now() + (tokens.expires_in - 60) * 1000 };
  }

  function token() {
    return saved && saved.expires > Date.now() ? saved.access : null;
  }

  window.churnguardAuth = {
    async start(settings) {
      auth = settings;
      if (!auth) return;
      const query = new URLSearchParams(window.location.search);
      if (query.get("code")) {
        await redeem(query.get("code"), query.get("state"));
        window.history.replaceState(null, "", window.location.pathname);
      }
      if (!token()) await signIn();
    },
    async signInAgain() {
      saved = null;
      if (auth) await signIn();
    },
    // Forgets the token and ends the Cognito session, then comes back to the page's sign-in.
    signOut() {
      saved = null;
      sessionStorage.removeItem(VERIFIER);
      if (!auth) return;
      const query = new URLSearchParams({ client_id: auth.client_id, logout_uri: auth.redirect_uri });
      window.location.assign(`${auth.domain}/logout?${query}`);
    },
    signedIn() {
      return Boolean(auth);
    },
    async headers() {
      if (!auth) return {};
      if (!token()) await signIn();
      return { authorization: `Bearer ${token()}` };
    },
  };
})();
