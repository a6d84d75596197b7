import type { Staff } from '@civicloop/sdk';

const attribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const HEAD = `<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#0b5d3b"><link rel="manifest" href="/manifest.webmanifest"><link rel="icon" href="/icons/icon.svg" type="image/svg+xml">
<link rel="apple-touch-icon" href="/icons/icon-192.png"><link rel="stylesheet" href="/app.css">`;

/**
 * The app shell. Where the gateway and the device broker are comes with it; so does, when served
 * to a signed-in worker, what their first screen shows.
 */
export function appShell(
  config: { gatewayUrl: string; publishableKey: string; deviceUrl: string | undefined; tenantId: string; preload: string[] },
  bootstrapJson?: string,
): string {
  const data = [
    `data-gateway-url="${attribute(config.gatewayUrl)}"`,
    `data-publishable-key="${attribute(config.publishableKey)}"`,
    `data-tenant-id="${attribute(config.tenantId)}"`,
    ...(config.deviceUrl ? [`data-device-url="${attribute(config.deviceUrl)}"`] : []),
  ].join(' ');
  // The signed-in worker's first screen comes with the page (served fresh, never kept); the
  // service worker keeps the same page without it (/shell) for opening offline.
  const bootstrap = bootstrapJson ? `<script type="application/json" id="bootstrap">${bootstrapJson}</script>` : '';
  return `<!doctype html>
<html lang="zh-CN"><head>${HEAD}<title>我的工单 · CivicLoop</title><link rel="preconnect" href="${attribute(config.gatewayUrl)}" crossorigin>
<script type="module" src="/app.js"></script>${config.preload.map((chunk) => `<link rel="modulepreload" href="${attribute(chunk)}">`).join('')}</head>
<body ${data}>
<header><h1 id="title">我的工单</h1><span id="who"></span><span id="net" role="status"></span>
<button type="button" id="lang" lang="en">English</button></header>
<div id="notice" role="alert" hidden></div>
<div id="duty"></div>
<main id="jobs" aria-labelledby="title"><p class="muted" id="loading">加载中… Loading…</p></main>
<section id="job" hidden aria-labelledby="job-title"></section>
<p id="outbox" role="status" hidden></p>
${bootstrap}</body></html>`;
}

/** The demo's sign-in: choose who you are. Behind a city's identity provider this page is not served. */
export function signInPage(workers: Staff[]): string {
  const buttons = workers.length
    ? workers
        .map(
          (w) =>
            `<li><button name="staff" value="${attribute(w.id)}">${text(w.name)} ` +
            `<small>${text(w.id)}${w.unitId ? ` · ${text(w.unitId)}` : ''}</small></button></li>`,
        )
        .join('')
    : '<li>No workers in the staff directory yet. 人员名录中还没有作业人员。</li>';
  return `<!doctype html>
<html lang="zh-CN"><head>${HEAD}<title>登录 Sign in · CivicLoop</title></head>
<body class="sign-in"><main><h1>登录 Sign in</h1>
<p>演示登录：选择你是谁。正式部署时由城市统一身份认证登录。<br>
<span lang="en">Demo sign-in: choose who you are. A deployment signs workers in through the city's identity provider.</span></p>
<form method="post" action="/sign-in"><ul>${buttons}</ul></form></main></body></html>`;
}
