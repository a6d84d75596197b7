/**
 * The widget's styles, applied as a constructable stylesheet (adoptedStyleSheets): no <style>
 * element and no style attribute, so a strict Content-Security-Policy has nothing to refuse.
 * Theme through the custom properties below, or through ::part().
 */
const CSS = `
:host{--civicloop-accent:#0b6bcb;--civicloop-on-accent:#fff;--civicloop-bg:#fff;--civicloop-fg:#1d2433;--civicloop-muted:#5b6476;
--civicloop-danger:#b3261e;--civicloop-radius:10px;--civicloop-font:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;display:block;
font-family:var(--civicloop-font);color:var(--civicloop-fg);line-height:1.45}
:host([hidden]){display:none}
*{box-sizing:border-box}
.panel{background:var(--civicloop-bg);border-radius:var(--civicloop-radius);padding:16px;max-width:520px}
h2{font-size:1.15rem;margin:0 0 12px}
[role=tablist]{display:flex;gap:4px;margin-bottom:12px;border-bottom:1px solid #d7dbe3}
[role=tab]{font:inherit;background:none;border:0;border-bottom:3px solid transparent;padding:8px 12px;cursor:pointer;color:var(--civicloop-muted)}
[role=tab][aria-selected=true]{color:var(--civicloop-fg);border-bottom-color:var(--civicloop-accent);font-weight:600}
label,legend{display:block;font-weight:600;margin:12px 0 4px}
fieldset{border:0;padding:0;margin:0}
.map-box{position:relative;height:220px;margin:8px 0;border-radius:8px;overflow:hidden;border:1px solid #b8bfcc}
.map-box[hidden]{display:none}
.pin-map{height:100%;font:inherit}
.pin-map:focus-visible{outline:3px solid var(--civicloop-accent);outline-offset:-3px}
.pin{position:absolute;left:50%;top:50%;width:26px;height:26px;margin:-30px 0 0 -13px;border-radius:50% 50% 50% 0;background:var(--civicloop-danger);
border:2px solid #fff;transform:rotate(-45deg);z-index:1000;pointer-events:none;box-shadow:0 1px 4px rgba(0,0,0,.4)}
.pin::after{content:"";position:absolute;left:7px;top:7px;width:8px;height:8px;border-radius:50%;background:#fff}
input[type=text],input[type=search],input[type=tel],select,textarea{width:100%;font:inherit;padding:8px;border:1px solid #b8bfcc;border-radius:6px;
background:#fff;color:inherit}
textarea{min-height:84px;resize:vertical}
.check{display:flex;gap:8px;align-items:flex-start;font-weight:400}
.check input{margin-top:4px}
button{font:inherit;cursor:pointer;border-radius:6px;padding:8px 14px;border:1px solid #b8bfcc;background:#f4f6fa;color:inherit}
button.primary{background:var(--civicloop-accent);color:var(--civicloop-on-accent);border-color:var(--civicloop-accent);font-weight:600}
button:disabled{opacity:.6;cursor:progress}
:focus-visible{outline:3px solid var(--civicloop-accent);outline-offset:2px}
.hint{color:var(--civicloop-muted);font-size:.9rem;margin:4px 0}
.error{color:var(--civicloop-danger);font-size:.95rem;margin:6px 0}
[part="nearby"]{background:#fff8e1;border:1px solid #e0c36a;border-radius:8px;padding:8px 12px;margin:12px 0}
[part="nearby"] h3{font-size:1rem;margin:0 0 4px}
.nearby{list-style:none;margin:0;padding:0}
.nearby li{display:flex;gap:8px;align-items:center;justify-content:space-between;border-top:1px solid #ecd9a0;padding:6px 0}
.nearby p{margin:0}
.req{color:var(--civicloop-danger);font-weight:700}
.req[hidden]{display:none}
.icon{width:24px;height:24px;flex:none;fill:none;stroke:currentColor;stroke-width:1.8;stroke-linecap:round;stroke-linejoin:round}
.photo-tile{position:relative;margin:8px 0}
.photo-tile label{display:flex;flex-direction:column;align-items:center;justify-content:center;gap:6px;min-height:132px;margin:0;
border:2px dashed #9aa6bb;border-radius:var(--civicloop-radius);background:#f4f7fc;color:var(--civicloop-accent);cursor:pointer;text-align:center;padding:12px}
.photo-tile .icon{width:44px;height:44px}
.photo-tile:focus-within label{outline:3px solid var(--civicloop-accent);outline-offset:2px}
.categories{margin-top:8px}
.groups{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:8px;margin-top:8px}
.group{border:1px solid #d7dbe3;border-radius:8px;background:#fff}
.group[open]{grid-column:1/-1}
.group[hidden]{display:none}
.group summary{display:flex;align-items:center;gap:8px;padding:10px;cursor:pointer;font-weight:600;list-style:none;color:var(--civicloop-fg)}
.group summary::-webkit-details-marker{display:none}
.group .count{color:var(--civicloop-muted);font-weight:400;margin-left:auto}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:6px;padding:0 8px 8px}
.tile{position:relative;display:flex;align-items:center;margin:0;padding:10px;border:1px solid #b8bfcc;border-radius:6px;font-weight:400;
cursor:pointer;min-height:44px}
.tile[hidden]{display:none}
.tile input{position:absolute;opacity:0;width:1px;height:1px}
.tile:has(input:checked){border:2px solid var(--civicloop-accent);background:#e8f1fc;font-weight:600}
.tile:has(input:focus-visible){outline:3px solid var(--civicloop-accent);outline-offset:2px}
progress{width:100%;height:10px;margin-top:8px}
.thumbs{display:flex;gap:8px;flex-wrap:wrap;margin:8px 0;padding:0;list-style:none}
.thumbs li{position:relative}
.thumbs img,.thumbs .file{width:84px;height:84px;object-fit:cover;border-radius:6px;display:block}
.thumbs .file{background:#e8eefb;font-size:.75rem;padding:28px 4px 0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;text-align:center}
.thumbs button{position:absolute;top:2px;right:2px;padding:0 6px;line-height:1.4}
.actions{margin-top:16px;display:flex;gap:8px;flex-wrap:wrap}
.done{font-size:1.05rem;font-weight:600}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.tickets{list-style:none;margin:0;padding:0}
.ticket{border:1px solid #d7dbe3;border-radius:8px;padding:10px 12px;margin-bottom:10px}
.ticket h3{font-size:1rem;margin:0}
.meta{color:var(--civicloop-muted);font-size:.9rem}
.meta.late{color:#a4161a;font-weight:600}
.badge{display:inline-block;font-size:.85rem;padding:1px 8px;border-radius:999px;background:#e8eefb;color:#123c73}
.timeline{list-style:none;display:flex;gap:6px;padding:0;margin:10px 0;flex-wrap:wrap}
.timeline li{flex:1 1 0;min-width:64px;border-top:4px solid #d7dbe3;padding-top:4px;font-size:.85rem;color:var(--civicloop-muted)}
.timeline li.reached{border-top-color:var(--civicloop-accent);color:var(--civicloop-fg)}
.stars{display:flex;gap:10px;flex-wrap:wrap}
.stars label{font-weight:400;margin:0;display:flex;gap:4px;align-items:center}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border-radius:999px;padding:12px 18px;box-shadow:0 4px 14px rgba(0,0,0,.2)}
dialog{border:0;border-radius:var(--civicloop-radius);padding:0;max-width:min(560px,100vw - 16px);width:100%;max-height:calc(100vh - 16px);color:inherit}
dialog::backdrop{background:rgba(15,20,30,.45)}
.dialog-head{display:flex;justify-content:space-between;align-items:center;padding:12px 16px 0}
@media (prefers-reduced-motion:no-preference){button{transition:background-color .15s}}
`;

let shared: CSSStyleSheet | undefined;

/** Adopts the styles into a shadow root; a <style nonce> where constructable sheets are missing. */
export function applyStyles(root: ShadowRoot, nonce: string | null): void {
  if ('adoptedStyleSheets' in Document.prototype && 'replaceSync' in CSSStyleSheet.prototype) {
    if (!shared) {
      shared = new CSSStyleSheet();
      shared.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [shared];
    return;
  }
  const style = document.createElement('style');
  if (nonce) style.setAttribute('nonce', nonce);
  style.textContent = CSS;
  root.append(style);
}
