// The public report form's proof of work (docs/reports.md, moderation/report_proof.py).
// On submit: fetch a signed challenge, count n until SHA-256("<challenge>:<n>") (WebCrypto) starts with
// the asked number of zero bits, put the challenge and n in the form's hidden fields, then send it.
(function () {
  "use strict";
  const form = document.getElementById("report-form");
  if (!form) {
    return;
  }
  const status = document.getElementById("proof-status");
  const challengeField = form.querySelector('input[name="proof_challenge"]');
  const nonceField = form.querySelector('input[name="proof_nonce"]');
  const button = form.querySelector('button[type="submit"]');
  const encoder = new TextEncoder();
  const BATCH = 256; // digests asked at once: WebCrypto answers each with a promise
  let sending = false;

  function leadingZeroBits(bytes) {
    let bits = 0;
    for (const byte of bytes) {
      if (byte !== 0) {
        return bits + Math.clz32(byte) - 24;
      }
      bits += 8;
    }
    return bits;
  }

  async function solve(challenge, bits) {
    for (let start = 0; ; start += BATCH) {
      const pending = [];
      for (let n = start; n < start + BATCH; n += 1) {
        pending.push(crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + n)));
      }
      const digests = await Promise.all(pending);
      for (let i = 0; i < BATCH; i += 1) {
        if (leadingZeroBits(new Uint8Array(digests[i])) >= bits) {
          return String(start + i);
        }
      }
    }
  }

  function say(text) {
    status.textContent = text || "";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) {
      return;
    }
    if (!(window.crypto && window.crypto.subtle)) {
      say(form.dataset.noCrypto);
      return;
    }
    sending = true;
    button.disabled = true;
    say(form.dataset.working);
    try {
      const answer = await fetch(form.dataset.challengeUrl, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      if (!answer.ok) {
        throw new Error("challenge " + answer.status);
      }
      const given = await answer.json();
      challengeField.value = given.challenge;
      nonceField.value = await solve(given.challenge, given.bits);
      form.submit(); // no submit event: the form goes as it is
    } catch (error) {
      say(form.dataset.failed);
      sending = false;
      button.disabled = false;
    }
  });

  // Back from the status page (the page kept in memory): ready for another report.
  window.addEventListener("pageshow", () => {
    sending = false;
    button.disabled = false;
    say("");
  });
})();
