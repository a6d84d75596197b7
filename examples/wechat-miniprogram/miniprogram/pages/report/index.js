const { placeFrom } = require('../../lib/place.js');

Page({
  data: { place: null },
  // A scanned entry code opens this page with the place in options.q (or cl-place when navigated to).
  onLoad(options) {
    this.setData({ place: placeFrom(options) });
  },
  reported() {
    wx.switchTab({ url: '/pages/my-reports/index' });
  },
});
