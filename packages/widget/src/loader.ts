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
  const widgetUrl = new URL('civicloop-widget.js', here).href;
  // Under Trusted Types (require-trusted-types-for 'script') a script's src takes only a
  // TrustedScriptURL: the policy "civicloop-widget" makes one, for this one URL and no other.
  // Pages that enforce Trusted Types allow it with: trusted-types civicloop-widget.
  const trustedTypes = (
    window as unknown as {
      trustedTypes?: { createPolicy(name: string, rules: { createScriptURL(url: string): string }): { createScriptURL(url: string): unknown } };
    }
  ).trustedTypes;
  let src: unknown = widgetUrl;
  if (trustedTypes) {
    try {
      src = trustedTypes
        .createPolicy('civicloop-widget', {
          createScriptURL: (url) => {
            if (url !== widgetUrl) throw new TypeError(`civicloop-widget: only ${widgetUrl} may be loaded, not ${url}`);
            return url;
          },
        })
        .createScriptURL(widgetUrl);
    } catch (error) {
      // The page's CSP does not allow the policy (or a second loader made it already).
      console.error(
        'civicloop-widget: the Trusted Types policy "civicloop-widget" could not be made; add it to the page\'s CSP (trusted-types civicloop-widget).',
        error,
      );
    }
  }
  (module as unknown as { src: unknown }).src = src;
  // A CSP that allows scripts by nonce allows this one too.
  if (script.nonce) module.nonce = script.nonce;
  document.head.append(module);
})();
