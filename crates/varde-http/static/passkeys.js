// Passkeys, for the staff pages and the advisory unit's alike: adding one (`#passkey-add`) and using one as the second
// factor at login (`#passkey-login`); each part names its server's two addresses (data-start, data-finish). The
// browser's own WebAuthn JSON methods do the encoding. Without them, or without script, these parts stay hidden and
// the pages offer the authenticator app's code as before.
(() => {
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) return;
  const post = async (url, body) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.message || res.statusText);
    return json;
  };

  const add = document.getElementById("passkey-add");
  if (add) {
    add.hidden = false;
    const form = add.querySelector("form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = add.querySelector("[role=status]");
      try {
        const csrf = form.dataset.csrf;
        const options = await post(add.dataset.start, { csrf });
        const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey);
        const credential = await navigator.credentials.create({ publicKey });
        await post(add.dataset.finish, { csrf, name: form.elements.name.value, credential: credential.toJSON() });
        location.reload();
      } catch {
        status.textContent = add.dataset.failed;
      }
    });
  }

  const use = document.getElementById("passkey-login");
  if (use) {
    use.hidden = false;
    use.querySelector("button").addEventListener("click", async () => {
      const status = use.querySelector("[role=status]");
      try {
        const csrf = use.dataset.csrf;
        const options = await post(use.dataset.start, { csrf });
        const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey);
        const credential = await navigator.credentials.get({ publicKey });
        await post(use.dataset.finish, { csrf, credential: credential.toJSON() });
        location.assign(use.dataset.next);
      } catch {
        status.textContent = use.dataset.failed;
      }
    });
  }
})();
