/* Yinxin scanning page: read a QR credential (camera, image file or pasted text), send its text to
   POST /api/v1/verify/qr (or resolve an online presentation link /v/<token>) and show the verdict.
   Decoding happens in this browser: BarcodeDetector where the browser has it (Shape Detection API),
   else jsQR (npm "jsqr", served by this server). No request leaves this origin (the page's CSP says so). */
(function () {
  "use strict";

  var KEY_STORAGE = "yinxin.verifierKey";   // sessionStorage: gone when the tab closes
  var LANG_STORAGE = "yinxin.lang";          // localStorage: a display preference, not a secret
  var VERIFY_URL = "/api/v1/verify/qr";
  var REQUEST_TIMEOUT_MS = 15000;
  var MAX_DECODE_SIDE = 1600;                // larger photos are scaled down before jsQR reads them
  var SCAN_INTERVAL_MS = 200;

  var TEXT = {
    "zh-CN": {
      title: "证照核验",
      resultHeading: "核验结果",
      idle: "请扫码、上传图片或粘贴内容",
      busy: "正在核验…",
      VALID: "有效",
      INVALID: "无效",
      INDETERMINATE: "无法确认",
      statusLine: "证照状态：",
      roleLine: "核验角色：",
      acceptanceLine: "已留存容缺受理记录（编号 {id}）。",
      noKeyNote: "未使用核验方密钥：只显示核验结论，不显示证照信息。",
      problemsHeading: "未通过的检查",
      cameraHeading: "摄像头扫码",
      cameraStart: "打开摄像头",
      cameraStop: "停止扫码",
      cameraLabel: "摄像头画面",
      cameraScanning: "请将二维码对准摄像头。",
      cameraUnavailable: "此浏览器无法使用摄像头（需要 HTTPS 或本机地址，并允许摄像头权限）。请上传图片或粘贴内容。",
      cameraDenied: "未获得摄像头权限。请在浏览器设置中允许，或改用上传图片。",
      noDecoder: "此浏览器没有二维码识别功能，服务器也未提供识别组件。请粘贴二维码内容。",
      uploadHeading: "上传二维码图片",
      uploadLabel: "选择图片",
      uploadHelp: "照片或截图在本机识别，图片不会上传。",
      uploadNotFound: "图片中没有找到二维码。请换一张更清晰、二维码完整的图片。",
      uploadUnreadable: "无法读取这个文件，请选择图片。",
      decoded: "已读取二维码（{n} 个字符）。",
      pasteHeading: "粘贴二维码内容",
      pasteLabel: "以 YX1: 开头的文本，或在线核验链接",
      pasteSubmit: "核验",
      pasteEmpty: "请先粘贴二维码内容。",
      settingsHeading: "核验方设置",
      keyLabel: "核验方密钥（可选）",
      keyNote: "密钥只保存在本浏览器标签页的会话中，关闭后清除。",
      keyClear: "清除密钥",
      notCredential: "这不是有效的印信证照二维码。",
      keyRejected: "核验方密钥无效或缺少密钥，请在“核验方设置”中填写正确的密钥。",
      forbidden: "当前核验方无权进行此项核验。",
      linkNeedsKey: "在线核验链接需要核验方密钥，请在“核验方设置”中填写。",
      linkUsed: "该在线核验码已使用、已过期或不存在，请持证人重新出示。",
      serviceDown: "核验服务暂时无法访问，请稍后重试或人工核验。",
      busyService: "核验服务繁忙，请稍后重试。",
      fieldIdentifier: "证照标识",
      fieldSigner: "签发方",
      yes: "是",
      no: "否",
      checks: {
        format: "二维码内容无法识别为印信证照凭证。",
        signature: "签名不符：内容被改动过，或不是由签发机构签发。",
        issuer_trust: "签发机构不在信任范围内。",
        validity_window: "凭证已过期或尚未生效（出示的二维码有时效）。",
        license_status: "证照当前不是正常状态（暂扣、吊销、注销或过期）。",
        status_list: "无法确认证照的最新状态。",
        trust_list: "无法确认签发机构是否可信。",
        presentation_token: "在线核验码无效、已使用或已过期。"
      },
      status: {
        active: "正常", valid: "正常", suspended: "暂扣", revoked: "吊销", cancelled: "注销",
        expired: "逾期", superseded: "已换发"
      },
      labels: {
        name: "姓名",
        holder_code: "公民身份号码(脱敏)",
        holder_id_number: "公民身份号码",
        masked_id_number: "公民身份号码(脱敏)",
        id_number_masked: "公民身份号码(脱敏)",
        valid_until: "有效期至",
        license_valid_until: "有效期至",
        valid_from: "有效期起",
        vehicle_class: "准驾车型",
        ZZYXQJZRQ: "有效期截止",
        ZZBH: "证照编号",
        status: "状态",
        ZT: "状态",
        license_status: "证照状态",
        age_over_18: "年满18周岁",
        age_18_or_over: "年满18周岁",
        over_18: "年满18周岁",
        sex: "性别",
        ethnicity: "民族",
        nationality: "国籍",
        birth_date: "出生日期",
        address: "住址",
        issuing_authority: "签发机关",
        first_issue_date: "初次领证日期",
        uscc: "统一社会信用代码",
        entity_type: "类型",
        legal_representative: "法定代表人",
        registered_capital: "注册资本",
        established: "成立日期",
        business_term: "营业期限",
        business_scope: "经营范围",
        license_type: "证照类型",
        type: "证照类型",
        purpose: "核验用途",
        role: "核验角色",
        issuer: "签发机构"
      }
    },
    en: {
      title: "Licence verification",
      resultHeading: "Result",
      idle: "Scan, upload an image or paste the text",
      busy: "Verifying…",
      VALID: "Valid",
      INVALID: "Invalid",
      INDETERMINATE: "Cannot confirm",
      statusLine: "Licence status: ",
      roleLine: "Verifier role: ",
      acceptanceLine: "Acceptance record kept (no. {id}).",
      noKeyNote: "No verifier key: only the verdict is shown, no licence details.",
      problemsHeading: "Checks that failed",
      cameraHeading: "Scan with the camera",
      cameraStart: "Open camera",
      cameraStop: "Stop scanning",
      cameraLabel: "Camera view",
      cameraScanning: "Hold the QR code in front of the camera.",
      cameraUnavailable: "This browser cannot use a camera here (it needs HTTPS or a local address, and camera permission). Upload an image or paste the text instead.",
      cameraDenied: "Camera permission was refused. Allow it in the browser settings, or upload an image.",
      noDecoder: "This browser cannot read QR codes and the server provides no decoder. Paste the text instead.",
      uploadHeading: "Upload a QR image",
      uploadLabel: "Choose image",
      uploadHelp: "Photos and screenshots are read on this device; the image is not uploaded.",
      uploadNotFound: "No QR code found in the image. Try a sharper image showing the whole code.",
      uploadUnreadable: "This file cannot be read; choose an image.",
      decoded: "QR code read ({n} characters).",
      pasteHeading: "Paste the QR text",
      pasteLabel: "Text starting with YX1:, or an online verification link",
      pasteSubmit: "Verify",
      pasteEmpty: "Paste the QR text first.",
      settingsHeading: "Verifier settings",
      keyLabel: "Verifier key (optional)",
      keyNote: "The key is kept only in this browser tab's session and cleared when it closes.",
      keyClear: "Clear key",
      notCredential: "This is not a valid Yinxin licence QR code.",
      keyRejected: "The verifier key is missing or not valid; enter the right key under Verifier settings.",
      forbidden: "This verifier may not perform this verification.",
      linkNeedsKey: "An online verification link needs a verifier key; enter it under Verifier settings.",
      linkUsed: "This online code was already used, has expired or does not exist; ask the holder to present again.",
      serviceDown: "The verification service cannot be reached. Try again later or check by hand.",
      busyService: "The verification service is busy. Try again shortly.",
      fieldIdentifier: "Licence identifier",
      fieldSigner: "Signed by",
      yes: "Yes",
      no: "No",
      checks: {
        format: "The QR content is not a readable Yinxin licence credential.",
        signature: "Signature mismatch: the content was altered or not signed by the issuer.",
        issuer_trust: "The issuer is not trusted.",
        validity_window: "The credential has expired or is not valid yet (presented codes are short-lived).",
        license_status: "The licence is not in force (suspended, revoked, cancelled or expired).",
        status_list: "The licence's current status cannot be confirmed.",
        trust_list: "Whether the issuer is trusted cannot be confirmed.",
        presentation_token: "The online code is not valid, was already used or has expired."
      },
      status: {
        active: "In force", valid: "In force", suspended: "Suspended", revoked: "Revoked",
        cancelled: "Cancelled", expired: "Expired", superseded: "Superseded"
      },
      labels: {
        name: "Name",
        holder_code: "ID number (masked)",
        holder_id_number: "ID number",
        masked_id_number: "ID number (masked)",
        id_number_masked: "ID number (masked)",
        valid_until: "Valid until",
        license_valid_until: "Valid until",
        valid_from: "Valid from",
        vehicle_class: "Permitted vehicle class",
        ZZYXQJZRQ: "Licence valid until",
        ZZBH: "Licence number",
        status: "Status",
        ZT: "Status",
        license_status: "Licence status",
        age_over_18: "Aged 18 or over",
        age_18_or_over: "Aged 18 or over",
        over_18: "Aged 18 or over",
        sex: "Sex",
        ethnicity: "Ethnicity",
        nationality: "Nationality",
        birth_date: "Date of birth",
        address: "Address",
        issuing_authority: "Issuing authority",
        first_issue_date: "First issued",
        uscc: "Unified social credit code",
        entity_type: "Entity type",
        legal_representative: "Legal representative",
        registered_capital: "Registered capital",
        established: "Established",
        business_term: "Business term",
        business_scope: "Business scope",
        license_type: "Licence type",
        type: "Licence type",
        purpose: "Purpose",
        role: "Verifier role",
        issuer: "Issuer"
      }
    }
  };

  var STATUS_CODES = { "正常": "active", "暂扣": "suspended", "吊销": "revoked", "注销": "cancelled",
                       "逾期": "expired", "过期": "expired", "已换发": "superseded" };

  var $ = function (id) { return document.getElementById(id); };
  var lang = "zh-CN";
  var shown = null;          // what the verdict box shows now, re-rendered when the language changes
  var stream = null;         // the camera's MediaStream while scanning
  var scanTimer = 0;
  var detectorPromise = makeDetector();
  var canvas = document.createElement("canvas");

  function t(key) { return TEXT[lang][key]; }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return String(values[name]); });
  }

  /* ---------- language ---------- */

  function applyLanguage(next) {
    lang = TEXT[next] ? next : "zh-CN";
    document.documentElement.lang = lang;
    document.title = t("title") + (lang === "en" ? " · Yinxin" : " · 印信");
    document.querySelectorAll("[data-i18n]").forEach(function (el) {
      var value = TEXT[lang][el.getAttribute("data-i18n")];
      if (typeof value === "string") { el.textContent = value; }
    });
    document.querySelectorAll("[data-i18n-aria-label]").forEach(function (el) {
      el.setAttribute("aria-label", TEXT[lang][el.getAttribute("data-i18n-aria-label")]);
    });
    $("lang-zh").setAttribute("aria-pressed", String(lang === "zh-CN"));
    $("lang-en").setAttribute("aria-pressed", String(lang === "en"));
    try { localStorage.setItem(LANG_STORAGE, lang); } catch (e) { /* storage may be disabled */ }
    render();
  }

  function initialLanguage() {
    var asked = new URLSearchParams(location.search).get("lang");
    if (asked === "en" || asked === "zh-CN") { return asked; }
    try { return localStorage.getItem(LANG_STORAGE) || "zh-CN"; } catch (e) { return "zh-CN"; }
  }

  /* ---------- the verdict ---------- */

  function show(state) { shown = state; render(); }

  function render() {
    var box = $("verdict");
    var fields = $("fields");
    var problems = $("problem-list");
    var state = shown || { kind: "idle" };
    fields.replaceChildren();
    problems.replaceChildren();
    $("verdict-sub").textContent = "";
    $("verdict-mark").textContent = "";

    if (state.kind === "idle" || state.kind === "busy") {
      box.className = "verdict verdict-" + state.kind;
      $("verdict-text").textContent = t(state.kind);
      box.setAttribute("aria-busy", String(state.kind === "busy"));
      fields.hidden = true;
      $("problems").hidden = true;
      $("result-notes").hidden = true;
      return;
    }
    box.removeAttribute("aria-busy");
    var verdict = state.verdict;
    box.className = "verdict verdict-" + verdict.toLowerCase();
    $("verdict-mark").textContent = verdict === "VALID" ? "✓" : verdict === "INVALID" ? "✕" : "?";
    $("verdict-text").textContent = t(verdict);

    var result = state.result;
    if (result && result.status) {
      $("verdict-sub").textContent = t("statusLine") + statusText(result.status);
    }
    var notes = $("result-notes");
    notes.replaceChildren();
    if (result && result.role_label) { addNote(notes, t("roleLine") + result.role_label); }
    if (result && result.acceptance && result.acceptance.id !== undefined) {
      addNote(notes, format(t("acceptanceLine"), { id: result.acceptance.id }));
    }
    if (result && !result.role && result.disclosure_note && verdict !== "INVALID") { addNote(notes, t("noKeyNote")); }
    notes.hidden = !notes.firstChild;
    if (result) {
      var disclosed = result.disclosed || {};
      Object.keys(disclosed).forEach(function (key) { addField(fields, labelOf(key), valueText(key, disclosed[key])); });
      if (result.signer) { addField(fields, t("fieldSigner"), organisationOf(result.signer)); }
      if (result.license_identifier) {
        addField(fields, t("fieldIdentifier"), result.license_identifier).classList.add("technical");
      }
    }
    fields.hidden = !fields.firstChild;

    var reasons = [];
    if (result && Array.isArray(result.checks)) {
      result.checks.forEach(function (check) {
        if (check.result === "failed" || check.result === "indeterminate") {
          reasons.push({ text: t("checks")[check.name] || check.name, detail: check.detail || "" });
        }
      });
    }
    if (state.message) { reasons.unshift({ text: t(state.message), detail: state.detail || "" }); }
    reasons.forEach(function (reason) {
      var li = document.createElement("li");
      li.textContent = reason.text;
      if (reason.detail) {
        var small = document.createElement("small");
        small.textContent = reason.detail;
        li.appendChild(small);
      }
      problems.appendChild(li);
    });
    $("problems").hidden = reasons.length === 0;
  }

  function addNote(list, text) {
    var li = document.createElement("li");
    li.textContent = text;
    list.appendChild(li);
  }

  function addField(list, label, value) {
    var dt = document.createElement("dt");
    var dd = document.createElement("dd");
    dt.textContent = label;
    dd.textContent = value;
    list.append(dt, dd);
    return dd;
  }

  // The organisation (O) of the signer's distinguished name (RFC 4514 string), else its common name (CN),
  // else the whole name: staff need "who issued this", not the certificate's attribute syntax.
  function organisationOf(dn) {
    var parts = {};
    String(dn).split(/,(?=(?:[A-Za-z]+|[0-9.]+)=)/).forEach(function (part) {
      var at = part.indexOf("=");
      if (at > 0) { parts[part.slice(0, at).trim().toUpperCase()] = part.slice(at + 1).replace(/\\(.)/g, "$1"); }
    });
    return parts.O || parts.CN || String(dn);
  }

  function labelOf(key) { return t("labels")[key] || key; }

  // A status is a code (active, …) or the policy's Chinese label of one (正常, 暂扣, …).
  function statusText(value) {
    var code = STATUS_CODES[value] || value;
    return t("status")[code] || String(value);
  }

  function valueText(key, value) {
    if (value === true || value === "true") { return t("yes"); }
    if (value === false || value === "false") { return t("no"); }
    if (value === null || value === undefined) { return "—"; }
    if (key === "status" || key === "license_status" || key === "ZT") { return statusText(value); }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  /* ---------- calling the API ---------- */

  function storedKey() {
    try { return sessionStorage.getItem(KEY_STORAGE) || ""; } catch (e) { return ""; }
  }

  function verifierKey() { return $("verifier-key").value.trim(); }

  function saveKey() {
    try {
      if (verifierKey()) { sessionStorage.setItem(KEY_STORAGE, verifierKey()); } else { sessionStorage.removeItem(KEY_STORAGE); }
    } catch (e) { /* the key then lives only in the field */ }
  }

  // An online presentation is a URL ending in /v/<token>; the server resolves it (once) for a verifier.
  function isPresentationLink(text) { return /^https?:\/\/\S+\/v\/[A-Za-z0-9_-]+\/?$/i.test(text); }

  async function verify(raw) {
    var text = String(raw).trim();
    if (!text) { $("paste-note").textContent = t("pasteEmpty"); return; }
    $("paste-note").textContent = "";
    var key = verifierKey();
    var isLink = isPresentationLink(text);
    if (isLink && !key) { show({ kind: "result", verdict: "INDETERMINATE", message: "linkNeedsKey" }); return; }
    show({ kind: "busy" });
    var headers = { "Accept": "application/json", "Content-Type": "application/json" };
    if (key) { headers["Authorization"] = "Bearer " + key; }
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    var response;
    var body = null;
    try {
      response = await fetch(VERIFY_URL, {
        method: "POST", headers: headers, body: JSON.stringify({ qr_text: text }),
        cache: "no-store", credentials: "same-origin", signal: controller.signal
      });
      body = await response.json().catch(function () { return null; });
    } catch (e) {
      show({ kind: "result", verdict: "INDETERMINATE", message: "serviceDown" });
      return;
    } finally {
      clearTimeout(timer);
    }
    if (response.ok && body && typeof body.verdict === "string" && TEXT[lang][body.verdict]) {
      show({ kind: "result", verdict: body.verdict, result: body });
      return;
    }
    show(problemState(response.status, body, isLink));
  }

  // RFC 9457 problem details → what the page says. Input the server refused to evaluate (not a credential,
  // too large, broken) is INVALID: what was presented is not a valid licence. Anything else is a
  // verification that did not happen, so the page cannot confirm either way.
  function problemState(status, body, isLink) {
    var detail = body && typeof body.detail === "string" ? body.detail : "";
    if (status === 401) {
      return { kind: "result", verdict: "INDETERMINATE", message: isLink ? "linkNeedsKey" : "keyRejected", detail: detail };
    }
    if (status === 403) { return { kind: "result", verdict: "INDETERMINATE", message: "forbidden", detail: detail }; }
    if (isLink && (status === 404 || status === 409 || status === 410)) {
      return { kind: "result", verdict: "INVALID", message: "linkUsed", detail: detail };
    }
    if (status === 400 || status === 413 || status === 422) {
      return { kind: "result", verdict: "INVALID", message: "notCredential", detail: detail };
    }
    if (status === 429) { return { kind: "result", verdict: "INDETERMINATE", message: "busyService", detail: detail }; }
    return { kind: "result", verdict: "INDETERMINATE", message: "serviceDown", detail: detail };
  }

  function decodedText(text, note) {
    $("qr-text").value = text;
    note.textContent = format(t("decoded"), { n: text.length });
    verify(text);
  }

  /* ---------- decoding ---------- */

  async function makeDetector() {
    if (!("BarcodeDetector" in window)) { return null; }
    try {
      var formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.indexOf("qr_code") < 0) { return null; }
      return new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (e) {
      return null;
    }
  }

  function hasJsQR() { return typeof window.jsQR === "function"; }

  // Decode a QR code from an image, video or bitmap of the given size; null when there is none.
  async function decode(source, width, height) {
    var detector = await detectorPromise;
    if (detector) {
      try {
        var codes = await detector.detect(source);
        if (codes.length) { return codes[0].rawValue; }
      } catch (e) { /* fall through to jsQR */ }
    }
    if (!hasJsQR()) {
      if (!detector) { throw new Error("noDecoder"); }
      return null;
    }
    var scale = Math.min(1, MAX_DECODE_SIDE / Math.max(width, height));
    var w = Math.max(1, Math.round(width * scale));
    var h = Math.max(1, Math.round(height * scale));
    canvas.width = w;
    canvas.height = h;
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(source, 0, 0, w, h);
    var found = window.jsQR(context.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "attemptBoth" });
    return found ? found.data : null;
  }

  async function onImageChosen() {
    var input = $("image-file");
    var note = $("upload-note");
    var file = input.files && input.files[0];
    note.textContent = "";
    if (!file) { return; }
    var bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (e) {
      note.textContent = t("uploadUnreadable");
      return;
    }
    try {
      var text = await decode(bitmap, bitmap.width, bitmap.height);
      if (text) { decodedText(text, note); } else { note.textContent = t("uploadNotFound"); }
    } catch (e) {
      note.textContent = t("noDecoder");
    } finally {
      bitmap.close();
      input.value = "";
    }
  }

  /* ---------- camera ---------- */

  async function startCamera() {
    var note = $("camera-note");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      note.textContent = t("cameraUnavailable");
      return;
    }
    if (!(await detectorPromise) && !hasJsQR()) { note.textContent = t("noDecoder"); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    } catch (e) {
      note.textContent = e && e.name === "NotAllowedError" ? t("cameraDenied") : t("cameraUnavailable");
      return;
    }
    var video = $("camera");
    video.srcObject = stream;
    video.hidden = false;
    $("camera-start").hidden = true;
    $("camera-stop").hidden = false;
    note.textContent = t("cameraScanning");
    try { await video.play(); } catch (e) { /* autoplay of a muted stream is allowed; keep scanning */ }
    scheduleScan();
  }

  function scheduleScan() {
    scanTimer = setTimeout(scanFrame, SCAN_INTERVAL_MS);
  }

  async function scanFrame() {
    var video = $("camera");
    if (!stream) { return; }
    if (video.readyState >= 2 && video.videoWidth > 0) {
      var text = null;
      try { text = await decode(video, video.videoWidth, video.videoHeight); } catch (e) { text = null; }
      if (text && stream) {
        stopCamera();
        decodedText(text, $("camera-note"));
        return;
      }
    }
    if (stream) { scheduleScan(); }
  }

  function stopCamera() {
    clearTimeout(scanTimer);
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    var video = $("camera");
    video.srcObject = null;
    video.hidden = true;
    $("camera-start").hidden = false;
    $("camera-stop").hidden = true;
    $("camera-note").textContent = "";
  }

  /* ---------- wiring ---------- */

  function init() {
    $("lang-zh").addEventListener("click", function () { applyLanguage("zh-CN"); });
    $("lang-en").addEventListener("click", function () { applyLanguage("en"); });
    $("camera-start").addEventListener("click", startCamera);
    $("camera-stop").addEventListener("click", stopCamera);
    $("image-file").addEventListener("change", onImageChosen);
    $("paste-form").addEventListener("submit", function (event) {
      event.preventDefault();
      verify($("qr-text").value);
    });
    var keyInput = $("verifier-key");
    keyInput.value = storedKey();
    keyInput.addEventListener("input", saveKey);
    $("key-clear").addEventListener("click", function () {
      keyInput.value = "";
      saveKey();
    });
    document.addEventListener("visibilitychange", function () { if (document.hidden) { stopCamera(); } });
    applyLanguage(initialLanguage());
  }

  init();
}());
