Page({
  onShow() {
    const mine = this.selectComponent('#mine');
    if (mine) mine.refresh();
  },
  async onPullDownRefresh() {
    const mine = this.selectComponent('#mine');
    if (mine) await mine.refresh();
    wx.stopPullDownRefresh();
  },
});
