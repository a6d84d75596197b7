const session = require('./lib/session.js');

App({
  onLaunch() {
    session.configure(require('./config.js'));
  },
});
