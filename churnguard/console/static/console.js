// The agent console's page logic: validation as the agent types, the three API calls, and keys.
// No libraries: the page must run in a locked-down call centre with nothing fetched from elsewhere.
"use strict";

// The same rules and words as churnguard/engine/request.py, so the page and the API agree.
const AREA_CODE = /^[1-9][0-9]{2}$/;
const PHONE = /^[0-9]{3}-[0-9]{4}$/;
const AREA_CODE_ERROR = "area code must be a 3-digit number such as 415 (digits only, not starting with 0)";
const PHONE_ERROR = "phone must look like NNN-NNNN (seven digits with a dash, e.g. 555-0100)";
const OFFER_WORDS = { accepted: "accepted", declined: "declined", call_ended: "call ended" };

let config = { api_base: "", auth: null };
let current = null; // {area_code, phone} of the customer looked up
let answer = null; // the answer on screen, with `customer`: the `current` it was asked for

// Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE, the isolates, the marks) shown as their code
// points: otherwise a stored message can make "evil" read "live" on the agent's screen.
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

function visibleControls(text) {
  return String(text).replace(BIDI_CONTROLS, (c) => `<U+${c.codePointAt(0).toString(16).toUpperCase()}>`);
}

const $ = (id) => document.getElementById(id);

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function setText(id, text) {
  $(id).textContent = visibleControls(text);
}

function fillList(id, items) {
  const list = $(id);
  list.replaceChildren(
    ...items.map((text) => {
      const item = document.createElement("li");
      item.textContent = visibleControls(text);
      return item;
    }),
  );
}

// Digits only; the phone's dash is put in as the agent types the fourth digit.
function normaliseAreaCode(input) {
  input.value = input.value.replace(/[^0-9]/g, "").slice(0, 3);
}

function normalisePhone(input) {
  const digits = input.value.replace(/[^0-9]/g, "").slice(0, 7);
  input.value = digits.length > 3 ? `${digits.slice(0, 3)}-${digits.slice(3)}` : digits;
}

// Marks a field invalid once the agent has typed enough for it to be judged (or on submit: `strict`).
function check(input, hint, pattern, message, complete, strict) {
  const value = input.value.trim();
  const judged = strict || value.length >= complete;
  const bad = judged && !pattern.test(value);
  input.setAttribute("aria-invalid", bad ? "true" : "false");
  hint.textContent = bad ? message : "";
  return pattern.test(value);
}

function keyIsValid(strict) {
  const area = check($("area-code"), $("area-code-hint"), AREA_CODE, AREA_CODE_ERROR, 3, strict);
  const phone = check($("phone"), $("phone-hint"), PHONE, PHONE_ERROR, 8, strict);
  return area && phone;
}

async function authHeaders() {
  return window.churnguardAuth ? window.churnguardAuth.headers() : {};
}

// POSTs JSON (phone numbers and messages never go in a URL); returns the answer or throws its error.
async function call(name, body) {
  let response;
  try {
    response = await fetch(`${config.api_base}/api/${name}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await authHeaders()) },
      body: JSON.stringify(body),
    });
  } catch (_) {
    throw new Error("the console's server is not answering: is `churnguard console` still running?");
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch (_) {
    payload = null;
  }
  if (response.status === 401 && window.churnguardAuth) {
    await window.churnguardAuth.signInAgain(); // the sign-in expired: the page reloads signed in
  }
  if (!response.ok) {
    const message = payload && payload.error ? payload.error : `the console's server answered ${response.status}`;
    const error = new Error(message);
    error.kind = payload && payload.kind;
    throw error;
  }
  return payload;
}

// The call's outcome in words, and whether the customer stayed when that was recorded apart from it
// (`offers record-outcome --retained`): "declined, customer stayed", or "customer left" alone.
function outcomeWords(offer) {
  const stayed = offer.retained === null ? "" : offer.retained ? "customer stayed" : "customer left";
  if (!offer.outcome) return stayed ? `outcome: ${stayed}` : "no outcome recorded";
  const expected = offer.outcome === "accepted";
  const apart = offer.retained !== null && offer.retained !== expected ? `, ${stayed}` : "";
  return `outcome: ${OFFER_WORDS[offer.outcome]}${apart}`;
}

function offerLine(offer) {
  const when = offer.days_ago === 0 ? "today" : `${offer.days_ago} day${offer.days_ago === 1 ? "" : "s"} ago`;
  const arm = offer.arm ? `, arm ${offer.arm}` : "";
  const outcome = `, ${outcomeWords(offer)}`;
  const degraded = offer.degraded ? ", degraded answer" : "";
  return `${offer.created_at} UTC (${when}): ${offer.offer} by rule ${offer.rule}${arm}${degraded}${outcome} [offer ${offer.offer_id}]`;
}

// Offers of this week other than `shown`, the offer on screen (a refreshed list, and a repeated
// answer's previous offers, include it).
function repeatWarning(offers, shown) {
  const thisWeek = offers.filter((offer) => offer.this_week && offer.offer !== "none" && offer.offer_id !== shown);
  if (!thisWeek.length) return "";
  return `This customer was already made ${thisWeek.length} offer${thisWeek.length === 1 ? "" : "s"} in the last 7 days (latest: ${thisWeek[0].offer}, ${thisWeek[0].created_at} UTC). Check before offering again.`;
}

function showRecent(offers) {
  fillList("recent-offers", offers.length ? offers.map(offerLine) : ["none"]);
  const warning = repeatWarning(offers, answer && !$("answer").hidden ? answer.offer_id : null);
  setText("repeat-warning", warning);
  $("repeat-warning").hidden = !warning;
}

// The customer's offers again, the one just made and its outcome included; a failure here leaves
// the answer on screen (it is recorded) and only says the list could not be refreshed.
async function refreshRecent() {
  try {
    showRecent((await call("customer", current)).recent_offers);
  } catch (error) {
    showError(`the list of recent offers could not be refreshed: ${error.message}`);
  }
}

// Forgets the answer on screen, so that its outcome buttons can never apply to another customer.
function clearAnswer() {
  answer = null;
  $("answer").hidden = true;
  for (const button of document.querySelectorAll("[data-outcome]")) button.disabled = true;
  setText("outcome-status", "");
}

async function lookUp(event) {
  event.preventDefault();
  showError("");
  if (!keyIsValid(true)) {
    showError($("area-code-hint").textContent || $("phone-hint").textContent);
    return;
  }
  const key = { area_code: $("area-code").value.trim(), phone: $("phone").value.trim() };
  // A new look-up is a new call: nothing of the previous caller stays on screen, their words included,
  // whether this look-up succeeds or not.
  current = null;
  clearAnswer();
  $("customer").hidden = true;
  $("message").value = "";
  $("lookup-button").disabled = true;
  $("recommend-button").disabled = true; // no answer for a customer whose look-up is still under way
  try {
    const customer = await call("customer", key);
    current = { area_code: customer.area_code, phone: customer.phone };
    setText("latest-message", customer.latest_message || "(no message on file)");
    showRecent(customer.recent_offers);
    $("customer").hidden = false;
    $("recommend-button").disabled = false;
    $("message").focus();
  } catch (error) {
    showError(error.message);
  } finally {
    $("lookup-button").disabled = false;
  }
}

function showAnswer(result, customer) {
  answer = { ...result, customer };
  setText("offer", `${result.offer_description} [${result.offer}]`);
  setText("rule", result.rule);
  setText("reason", result.reason);
  setText("arm", result.arm ? `${result.experiment}: arm ${result.arm}` : "none (not an experiment)");
  const risk = $("risk");
  risk.textContent =
    result.churn_probability === null
      ? "unknown (no churn score)"
      : `${result.risk_band} (${result.churn_probability.toFixed(3)})`;
  risk.className = `band-${result.risk_band}`;
  setText(
    "sentiment",
    result.sentiment === null
      ? "unknown (no sentiment)"
      : `${result.sentiment} (confidence ${result.confidence.toFixed(3)})`,
  );
  setText(
    "call-reason",
    result.call_reason !== null
      ? result.call_reason.replaceAll("_", " ")
      : result.missing.some((part) => part.part === "call_reason")
        ? "unknown (no call reason)"
        : "not asked (call reasons are off in this deploy)",
  );
  fillList("drivers", result.driver_sentences);
  fillList("missing", result.missing.map((part) => part.reason));
  $("degraded").hidden = !result.degraded;
  fillList("notes", result.notes);
  const warning = repeatWarning(result.previous_offers, result.offer_id);
  setText("previous-warning", warning);
  $("previous-warning").hidden = !warning;
  setText("outcome-status", "");
  setText("offer-id", `Recorded as offer ${result.offer_id} (rules version ${result.rules_version})`);
  for (const button of document.querySelectorAll("[data-outcome]")) button.disabled = false;
  $("answer").hidden = false;
  // The offer and anything missing from it at the top of the screen; the keyboard on "Accepted".
  $("answer").scrollIntoView({ block: "nearest" });
  $("outcome-accepted").focus({ preventScroll: true });
}

async function recommend(event) {
  if (event) event.preventDefault();
  if (!current) return;
  showError("");
  const asked = current;
  const typed = $("message").value;
  $("recommend-button").disabled = true;
  setText("recommend-button", "Asking the engine...");
  try {
    const result = await call("recommend", { ...asked, message: typed.trim() ? typed : null });
    if (current !== asked) {
      // Another customer was looked up while this answer was on its way: it is not theirs to see.
      showError(`the answer for the previous caller came after the next look-up; it is recorded as offer ${result.offer_id} and not shown`);
      return;
    }
    showAnswer(result, asked);
    await refreshRecent();
  } catch (error) {
    showError(error.message);
  } finally {
    $("recommend-button").disabled = !current; // a look-up started meanwhile keeps it off until it ends
    setText("recommend-button", "Recommend offer");
  }
}

// Only ever for the offer on screen, made for the customer on screen.
function outcomeTarget() {
  if (!answer || $("answer").hidden || !current || answer.customer !== current) return null;
  return answer.offer_id;
}

async function recordOutcome(outcome) {
  const offerId = outcomeTarget();
  if (offerId === null) return;
  showError("");
  const buttons = document.querySelectorAll("[data-outcome]");
  for (const button of buttons) button.disabled = true;
  try {
    const stored = await call("outcome", { offer_id: offerId, outcome });
    const again = stored.replaced ? " (replacing the earlier outcome)" : "";
    setText("outcome-status", `Outcome recorded: ${OFFER_WORDS[outcome]} for offer ${stored.offer_id}${again}.`);
    await refreshRecent();
  } catch (error) {
    showError(error.message);
  } finally {
    const live = outcomeTarget() !== null; // off if a look-up cleared the answer meanwhile
    for (const button of buttons) button.disabled = !live;
  }
}

function onKey(event) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    if (!$("recommend-button").disabled) recommend(event);
    else event.preventDefault();
    return;
  }
  const typing = ["INPUT", "TEXTAREA"].includes(document.activeElement.tagName);
  const outcome = { 1: "accepted", 2: "declined", 3: "call_ended" }[event.key];
  if (outcome && !typing && outcomeTarget() !== null) {
    event.preventDefault();
    recordOutcome(outcome);
  }
}

async function start() {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (response.ok) config = await response.json();
  } catch (_) {
    // Served without a config (a plain local console): the API is on this origin.
  }
  if (window.churnguardAuth) {
    await window.churnguardAuth.start(config.auth);
    // Deployed only: the local console has no sign-in to end.
    $("sign-out").hidden = !window.churnguardAuth.signedIn();
    $("sign-out").addEventListener("click", () => window.churnguardAuth.signOut());
  }
  $("area-code").addEventListener("input", (event) => {
    normaliseAreaCode(event.target);
    keyIsValid(false);
  });
  $("phone").addEventListener("input", (event) => {
    normalisePhone(event.target);
    keyIsValid(false);
  });
  $("lookup").addEventListener("submit", lookUp);
  $("call").addEventListener("submit", recommend);
  for (const button of document.querySelectorAll("[data-outcome]")) {
    button.addEventListener("click", () => recordOutcome(button.dataset.outcome));
  }
  document.addEventListener("keydown", onKey);
}

document.addEventListener("DOMContentLoaded", start);
