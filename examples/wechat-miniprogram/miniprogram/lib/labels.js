// How a resident reads a report's state (zh-CN, with English).
const STATUS = {
  reported: '已受理 Received',
  dispatched: '已派单 Sent to the team',
  accepted: '已接单 Accepted',
  on_site: '处理中 Being fixed',
  resolved: '已处理，待核查 Fixed, being checked',
  rework: '返工中 Being redone',
  closed: '已办结 Done',
  rejected: '不予受理 Not taken up',
  duplicate: '已合并 Merged with another report',
  cancelled: '已撤销 Withdrawn',
};

function statusLabel(status) {
  return STATUS[status] || status;
}

/** "12月3日 09:05" in the phone's time zone. */
function shortTime(iso) {
  const at = new Date(iso);
  const pad = (n) => (n < 10 ? `0${n}` : String(n));
  return `${at.getMonth() + 1}月${at.getDate()}日 ${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

module.exports = { statusLabel, shortTime };
