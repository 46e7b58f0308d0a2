// Citizen upload page: pick or take a photo, upload it (with progress), then poll
// GET /v2/images/{id} (the flat verdict) with backoff until the verdict is there, and show
// its advice from GET /v1/images/{id}/advice in the page's language. No framework, no build.
"use strict";

(function () {
  const POLL_FIRST_MS = 300;
  const POLL_MAX_MS = 3000;
  const POLL_GIVE_UP_MS = 120000;

  // The server wrote the page in the browser's language; these are the texts this
  // script shows, from the same catalogue ({name} marks a value to fill in).
  const TEXT = JSON.parse(document.getElementById("page-texts").textContent);
  const LANGUAGE = document.documentElement.lang || "en";
  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

  const $ = (id) => document.getElementById(id);
  const camera = $("camera");
  const gallery = $("gallery");
  const preview = $("preview");
  const progressBox = $("progress-box");
  const progress = $("progress");
  const status = $("status");
  const result = $("result");
  const resultTitle = $("result-title");
  const resultScore = $("result-score");
  const alreadySent = $("already-sent");
  const advice = $("advice");
  const recommendations = $("recommendations");
  const checks = $("checks");
  const retake = $("retake");
  const another = $("another");

  // With API keys on, a city links to this page as /#key=<its public upload key>: the
  // fragment never leaves the browser, so the key stays out of server and proxy logs.
  // Old /?key= links still work; the key is then taken out of the address bar.
  const KEY_STORE = "civicqc-api-key";
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const query = new URLSearchParams(window.location.search);
  const linkedKey = fragment.get("key") || query.get("key");
  if (linkedKey) {
    sessionStorage.setItem(KEY_STORE, linkedKey);
    query.delete("key");
    const rest = query.toString();
    history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
  }
  const apiKey = sessionStorage.getItem(KEY_STORE);
  const authHeaders = apiKey ? { "X-API-Key": apiKey } : {};

  let previewUrl = null;
  let run = 0; // increments on every new upload, so a stale poll loop stops

  function say(text) {
    status.textContent = text;
  }

  function setBusy(busy) {
    camera.disabled = busy;
    gallery.disabled = busy;
  }

  function reset() {
    run += 1;
    result.hidden = true;
    result.removeAttribute("data-verdict");
    alreadySent.hidden = true;
    progressBox.hidden = true;
    preview.hidden = true;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    camera.value = "";
    gallery.value = "";
    setBusy(false);
    say("");
  }

  function errorText(xhr) {
    try {
      const body = JSON.parse(xhr.responseText);
      if (body && typeof body.detail === "string") return body.detail;
    } catch (_) {
      /* not JSON */
    }
    return xhr.status
      ? fill(TEXT.server_answered, { status: xhr.status })
      : TEXT.connection_failed;
  }

  function upload(file) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const form = new FormData();
      form.append("image", file, file.name || "photo.jpg");
      xhr.open("POST", "/v1/images");
      Object.entries(authHeaders).forEach(([name, value]) => xhr.setRequestHeader(name, value));
      xhr.responseType = "text";
      xhr.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        const percent = Math.round((event.loaded / event.total) * 100);
        progress.value = percent;
        progress.textContent = percent + "%";
      });
      xhr.addEventListener("load", () => {
        if (xhr.status === 202 || xhr.status === 200) {
          resolve(JSON.parse(xhr.responseText));
        } else {
          reject(new Error(errorText(xhr)));
        }
      });
      xhr.addEventListener("error", () => reject(new Error(errorText(xhr))));
      xhr.addEventListener("timeout", () => reject(new Error(TEXT.timed_out)));
      xhr.send(form);
    });
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function verdictOf(id, myRun) {
    const started = Date.now();
    let delay = POLL_FIRST_MS;
    while (run === myRun) {
      try {
        const response = await fetch("/v2/images/" + encodeURIComponent(id), {
          headers: { Accept: "application/json", ...authHeaders },
          cache: "no-store",
        });
        if (response.ok) {
          const body = await response.json();
          if (body.status !== "pending") return body;
        } else if (response.status !== 503 && response.status !== 404) {
          throw new Error(fill(TEXT.server_answered, { status: response.status }));
        }
      } catch (error) {
        if (!(error instanceof TypeError)) throw error; // TypeError: offline, retry
      }
      if (Date.now() - started > POLL_GIVE_UP_MS) return null;
      await sleep(delay);
      delay = Math.min(delay * 1.5, POLL_MAX_MS);
    }
    return null;
  }

  function item(parent, build) {
    const li = document.createElement("li");
    build(li);
    parent.appendChild(li);
  }

  function span(className, text) {
    const el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  }

  // The verdict's texts in the page's language; null if they can't be had (then the
  // page still shows the outcome, the score and each check's result).
  async function adviceOf(id) {
    try {
      const response = await fetch("/v1/images/" + encodeURIComponent(id) + "/advice", {
        headers: { Accept: "application/json", "Accept-Language": LANGUAGE, ...authHeaders },
        cache: "no-store",
      });
      return response.ok ? await response.json() : null;
    } catch (_) {
      return null;
    }
  }

  function show(verdict, texts) {
    const outcome = verdict.outcome;
    result.dataset.verdict = outcome;
    resultTitle.textContent = TEXT[outcome] || outcome;
    resultScore.textContent =
      verdict.score == null
        ? ""
        : fill(TEXT.score, {
            score: Math.round(verdict.score),
            needed: Math.round(verdict.accept_score),
          });

    recommendations.replaceChildren();
    const tips = texts ? texts.recommendations : [];
    tips.forEach((tip) => item(recommendations, (li) => (li.textContent = tip)));
    advice.hidden = tips.length === 0;

    checks.replaceChildren();
    Object.entries(verdict.checks).forEach(([name, check]) => {
      const said = texts && texts.checks[name];
      item(checks, (li) => {
        li.dataset.check = name;
        li.appendChild(span("name", fill(TEXT.check_label, { name: said ? said.title : name }) + " "));
        li.appendChild(span(check.passed ? "pass" : "fail", check.passed ? TEXT.passed : TEXT.needs_work));
        if (said) li.appendChild(span("reason", said.reason));
      });
    });

    // The same bytes were sent before (the verdict names the first copy): say so kindly.
    const repeated = Boolean(verdict.duplicate_of);
    alreadySent.textContent = repeated ? TEXT.already_sent : "";
    alreadySent.hidden = !repeated;

    const poor = outcome !== "accepted";
    retake.hidden = !poor;
    another.hidden = poor;
    result.hidden = false;
    say(resultTitle.textContent + "." + (repeated ? " " + TEXT.already_sent : ""));
    resultTitle.focus();
  }

  async function submit(file) {
    reset();
    const myRun = run;
    setBusy(true);
    previewUrl = URL.createObjectURL(file);
    preview.src = previewUrl;
    preview.hidden = false;
    progress.value = 0;
    progress.textContent = "0%";
    progressBox.hidden = false;
    say(TEXT.uploading);
    try {
      const accepted = await upload(file);
      progressBox.hidden = true;
      say(TEXT.checking);
      const event = await verdictOf(accepted.id, myRun);
      if (run !== myRun) return;
      if (event === null) {
        say(fill(TEXT.slow, { id: accepted.id }));
      } else {
        const texts = await adviceOf(accepted.id);
        if (run === myRun) show(event, texts);
      }
    } catch (error) {
      if (run !== myRun) return;
      progressBox.hidden = true;
      say(fill(TEXT.failed, { reason: error.message }));
    } finally {
      if (run === myRun) setBusy(false);
    }
  }

  [camera, gallery].forEach((input) =>
    input.addEventListener("change", () => {
      if (input.files && input.files[0]) submit(input.files[0]);
    }),
  );
  retake.addEventListener("click", () => {
    reset();
    camera.focus();
    camera.click();
  });
  another.addEventListener("click", () => {
    reset();
    camera.focus();
  });
})();
