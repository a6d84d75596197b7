/**
 * The one-line embed: <script src="https://gateway/widget/loader.js" data-publishable-key="cl_pk_..." async></script>.
 * Places a <civicloop-report> where the script stands (or in data-target), copies the data-*
 * attributes onto it, and pulls the widget module from beside itself, asynchronously.
 */
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script) return;
  const here = new URL(script.src, location.href);
  const element = document.createElement('civicloop-report');
  for (const { name, value } of [...script.attributes]) {
    if (name.startsWith('data-') && name !== 'data-target') element.setAttribute(name.slice(5), value);
  }
  if (!element.hasAttribute('gateway')) element.setAttribute('gateway', here.origin);
  const target = script.dataset.target ? document.querySelector(script.dataset.target) : null;
  if (target) target.append(element);
  else script.after(element);
  const module = document.createElement('script');
  module.type = 'module';
  module.src = new URL('civicloop-widget.js', here).href;
  // A CSP that allows scripts by nonce allows this one too.
  if (script.nonce) module.nonce = script.nonce;
  document.head.append(module);
})();
