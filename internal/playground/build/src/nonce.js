// Monaco and some of GraphiQL's dependencies create <style> elements at run
// time. The page's Content-Security-Policy allows styles only from the
// gateway and from elements carrying the page's nonce, so every <style> the
// page creates gets that nonce. This module must be imported first.
const nonce = document.querySelector('script[nonce]')?.nonce ?? '';

if (nonce) {
  const createElement = Document.prototype.createElement;
  Document.prototype.createElement = function createElementWithNonce(tagName, options) {
    const element = createElement.call(this, tagName, options);
    if (String(tagName).toLowerCase() === 'style') {
      element.setAttribute('nonce', nonce);
    }
    return element;
  };
}
