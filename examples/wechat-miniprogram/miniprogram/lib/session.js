// The resident's CivicLoop client in the mini-program, and how they sign in: wx.login gives a code,
// the property platform's server exchanges it for the openid (WeChat's code2Session) and answers
// with a short-lived CivicLoop resident token signed with its partner key. The token is kept until
// a minute before it expires; nothing secret is ever in the mini-program.
const { WechatCivicLoop } = require('./civicloop.js');

let settings;
let client;
let session;
let pending;

function configure(next) {
  settings = next;
  client = undefined;
  session = undefined;
  pending = undefined;
}

function callWx(api, options) {
  return new Promise((resolve, reject) => wx[api](Object.assign({}, options, { success: resolve, fail: reject })));
}

async function signIn() {
  const { code } = await callWx('login', {});
  const answer = await callWx('request', {
    url: `${settings.partnerServerUrl}/wechat/session`,
    method: 'POST',
    data: { code },
    header: { 'content-type': 'application/json' },
    dataType: 'json',
  }).catch((error) => {
    throw new Error(`登录失败 Could not sign in: ${error.errMsg || error}`);
  });
  if (answer.statusCode !== 200 || !answer.data || typeof answer.data.token !== 'string') {
    // biome-ignore lint/complexity/useOptionalChain: written for base libraries without optional chaining
    throw new Error(`登录失败 Could not sign in: ${(answer.data && answer.data.error) || `HTTP ${answer.statusCode}`}`);
  }
  return { token: answer.data.token, renewAt: Date.parse(answer.data.expiresAt) - 60000 };
}

/** The resident token: the one signed in with, or a new sign-in when it is near its end (one at a time). */
async function token() {
  if (session && Date.now() < session.renewAt) return session.token;
  if (!pending) {
    pending = signIn()
      .then((fresh) => {
        session = fresh;
        return fresh;
      })
      .finally(() => {
        pending = undefined;
      });
  }
  return (await pending).token;
}

function civicloop() {
  if (!settings) throw new Error('session.configure(require("../config.js")) first (app.js does it on launch).');
  if (!client) client = new WechatCivicLoop(wx, { baseUrl: settings.gatewayUrl, apiKey: settings.publishableKey, token });
  return client;
}

module.exports = { configure, civicloop };
