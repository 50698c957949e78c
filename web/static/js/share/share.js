// The share bar (_share.html): counts share clicks on our own server, copies links, and
// shares to KakaoTalk.
//
// KakaoTalk: with a Kakao JavaScript key (data-kakao-key) Kakao's SDK is loaded from its
// CDN with its Subresource Integrity hash and Kakao.Share.sendDefault() sends the feed
// template. Without a key the button still works: on phones it opens the native share
// sheet (navigator.share — KakaoTalk is offered there), elsewhere it copies the link and
// says so. Every message goes to one polite live region.

const bar = document.querySelector("[data-share]");

function announce(message) {
  const status = bar.querySelector("[data-share-status]");
  // Clear first so saying the same thing twice is announced twice.
  status.textContent = "";
  window.setTimeout(() => { status.textContent = message; }, 50);
}

function count(network, url) {
  fetch(bar.dataset.clickUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ network, url }),
    credentials: "same-origin",
    keepalive: true,
  }).catch(() => { /* a lost count is not the viewer's problem */ });
}

function showManual(url) {
  const manual = bar.querySelector("[data-share-manual]");
  const input = manual.querySelector("input");
  input.value = url;
  manual.hidden = false;
  input.focus();
  input.select();
}

async function copyLink(url) {
  try {
    await navigator.clipboard.writeText(url);
    return true;
  } catch {
    return false;
  }
}

function isPhone() {
  if (navigator.userAgentData && navigator.userAgentData.mobile) return true;
  return /Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent);
}

let kakaoReady = null;

function loadKakao() {
  if (kakaoReady) return kakaoReady;
  kakaoReady = new Promise((resolve, reject) => {
    if (window.Kakao) {
      resolve(window.Kakao);
      return;
    }
    const script = document.createElement("script");
    script.src = bar.dataset.kakaoSdk;
    script.integrity = bar.dataset.kakaoIntegrity;
    script.crossOrigin = "anonymous";
    script.async = true;
    script.addEventListener("load", () => {
      if (window.Kakao) resolve(window.Kakao);
      else reject(new Error("Kakao SDK did not define Kakao"));
    }, { once: true });
    script.addEventListener("error", () => reject(new Error("Kakao SDK failed to load")),
      { once: true });
    document.head.append(script);
  });
  return kakaoReady;
}

async function copyAndSay(url, message) {
  if (await copyLink(url)) {
    announce(message);
  } else {
    announce(bar.dataset.msgCopyFailed);
    showManual(url);
  }
}

async function shareNatively(url) {
  try {
    await navigator.share({ title: bar.dataset.title, url });
    announce(bar.dataset.msgShared);
  } catch (error) {
    if (error && error.name === "AbortError") return; // the viewer closed the sheet
    await copyAndSay(url, bar.dataset.msgCopiedKakao);
  }
}

async function shareToKakao(url) {
  const key = bar.dataset.kakaoKey;
  if (key) {
    try {
      const Kakao = await loadKakao();
      if (!Kakao.isInitialized()) Kakao.init(key);
      Kakao.Share.sendDefault(JSON.parse(bar.dataset.kakaoTemplate));
      return;
    } catch {
      announce(bar.dataset.msgKakaoFailed);
      // fall through to the same fallback as without a key
    }
  }
  if (isPhone() && typeof navigator.share === "function") {
    await shareNatively(url);
  } else {
    await copyAndSay(url, bar.dataset.msgCopiedKakao);
  }
}

// A link to one moment of the page (a slot of the schedule: data-share-fragment="at-1400"):
// the bar's copy link with the fragment after the UTM parameters, as /api/share builds it.
function copyFragment(fragment) {
  const base = bar.querySelector('[data-network="copy"]').dataset.url.split("#")[0];
  const url = `${base}#${fragment}`;
  count("copy", url);
  copyAndSay(url, bar.dataset.msgCopied);
}

if (bar) {
  for (const item of bar.querySelectorAll("[data-share-js]")) item.hidden = false;
  // Phones: the native share sheet first (every app the phone has, KakaoTalk included);
  // the buttons after it stay as the fallback.
  if (isPhone() && typeof navigator.share === "function") {
    for (const item of bar.querySelectorAll("[data-share-native]")) item.hidden = false;
  }
  for (const button of document.querySelectorAll("[data-share-fragment]")) {
    button.hidden = false;
    button.addEventListener("click", () => copyFragment(button.dataset.shareFragment));
  }
  if (bar.dataset.kakaoKey) loadKakao().catch(() => { /* reported on click */ });

  bar.addEventListener("click", (event) => {
    const target = event.target.closest("[data-network]");
    if (!target || !bar.contains(target)) return;
    const { network, url } = target.dataset;
    if (network === "native") {
      shareNatively(url); // which app the sheet shares to is not ours to know: not counted
      return;
    }
    count(network, url);
    if (network === "copy") {
      copyAndSay(url, bar.dataset.msgCopied);
    } else if (network === "kakaotalk") {
      shareToKakao(url);
    }
    // X, Facebook and LINE are links: the browser opens them.
  });
}
