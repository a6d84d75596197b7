// Where this mini-program's CivicLoop and its property platform's server are. Both addresses must
// be https and listed in the mini-program's request and uploadFile domains (request合法域名,
// uploadFile合法域名). The publishable key is the partner's (POST /v1/partners gives it).
module.exports = {
  gatewayUrl: 'https://civicloop.example.gov',
  publishableKey: 'cl_pk_REPLACE_WITH_THE_PARTNER_PUBLISHABLE_KEY',
  partnerServerUrl: 'https://portal.sunny-gardens.example',
};
