// 我的报事: the resident's reports, newest first, each with its number, category, state and when;
// followed reports (merged duplicates) are among them. Pull to refresh, or call refresh().
const { civicloop } = require('../../lib/session.js');
const { statusLabel, shortTime } = require('../../lib/labels.js');

const OPEN = ['reported', 'dispatched', 'accepted', 'on_site', 'resolved', 'rework'];

Component({
  data: { items: [], loading: false, error: '', empty: false },

  lifetimes: {
    attached() {
      this.refresh();
    },
  },

  methods: {
    async refresh() {
      this.setData({ loading: true, error: '' });
      try {
        const client = civicloop();
        const [page, catalogue] = await Promise.all([client.tickets.list({ limit: 50 }), client.categories()]);
        const names = {};
        for (const category of catalogue.categories) names[category.code] = category.name['zh-CN'];
        const items = page.items.map((ticket) => ({
          id: ticket.id,
          number: ticket.number,
          category: ticket.categoryAsReported?.name['zh-CN'] || names[ticket.category] || ticket.category,
          status: ticket.status,
          statusLabel: statusLabel(ticket.status),
          open: OPEN.indexOf(ticket.status) >= 0,
          overdue: ticket.overdue === true,
          reportedAt: shortTime(ticket.createdAt),
          description: ticket.description.slice(0, 60),
        }));
        this.setData({ items, empty: items.length === 0 });
      } catch (error) {
        this.setData({ error: `加载失败 Could not load your reports: ${error.message}` });
      } finally {
        this.setData({ loading: false });
      }
    },

    open(event) {
      this.triggerEvent('open', { id: event.currentTarget.dataset.id });
    },
  },
});
