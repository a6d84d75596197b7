// The place a scanned QR entry code opens the report at. The gateway's entry codes carry
// cl-place=lat,lon[,crs] and cl-place-name in a web address; registered in the mini-program's
// "scan a normal link QR code" rules (扫普通链接二维码打开小程序), WeChat opens this page with that
// address in options.q (URI-encoded). The same code opens the web widget elsewhere. A mini-program
// has no URL class: the query is read by hand.
function readQuery(search) {
  const out = {};
  for (const part of search.split('&')) {
    if (!part) continue;
    const at = part.indexOf('=');
    const decode = (text) => {
      try {
        return decodeURIComponent(text.replace(/\+/g, ' '));
      } catch (_error) {
        return '';
      }
    };
    out[decode(at < 0 ? part : part.slice(0, at))] = decode(at < 0 ? '' : part.slice(at + 1));
  }
  return out;
}

/** { lat, lon, crs, name } from the page's options, or null when they name no valid place. */
function placeFrom(options) {
  let query = options || {};
  if (typeof query.q === 'string') {
    let address;
    try {
      address = decodeURIComponent(query.q);
    } catch (_error) {
      return null;
    }
    const mark = address.indexOf('?');
    query = mark < 0 ? {} : readQuery(address.slice(mark + 1).split('#')[0]);
  }
  const raw = typeof query['cl-place'] === 'string' ? query['cl-place'].split(',') : [];
  const lat = Number(raw[0]);
  const lon = Number(raw[1]);
  const crs = raw[2] === undefined ? 'wgs84' : raw[2];
  if (
    raw.length < 2 ||
    raw.length > 3 ||
    !raw[0] ||
    !raw[1] ||
    !(lat >= -90 && lat <= 90) ||
    !(lon >= -180 && lon <= 180) ||
    ['wgs84', 'gcj02', 'bd09'].indexOf(crs) < 0
  )
    return null;
  const name = typeof query['cl-place-name'] === 'string' ? query['cl-place-name'].slice(0, 100) : '';
  return { lat, lon, crs, name };
}

module.exports = { placeFrom, readQuery };
