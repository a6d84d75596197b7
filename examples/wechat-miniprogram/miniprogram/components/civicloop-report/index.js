// 随手拍: a resident reports a problem with a photo from the camera, where they stand (GCJ-02, as
// WeChat's map gives it, sent with its crs) or at the place a scanned entry code names, in a
// category of the tenant's catalogue, answering the category's extra questions.
const { civicloop } = require('../../lib/session.js');

const ANSWER_LIMIT = 500;

function questionView(question) {
  return {
    code: question.code,
    datatype: question.datatype,
    required: question.required,
    label: question.description['zh-CN'],
    help: question.help ? question.help['zh-CN'] : '',
    choices: (question.values || []).map((value) => ({ key: value.key, name: value.name['zh-CN'] })),
    choiceNames: (question.values || []).map((value) => value.name['zh-CN']),
  };
}

/** An answer as the API takes it, or undefined when left empty; throws a message when it is not one. */
function answerOf(question, raw) {
  if (raw === undefined || raw === '' || (Array.isArray(raw) && raw.length === 0)) return undefined;
  if (question.datatype === 'number') {
    const number = Number(raw);
    if (!Number.isFinite(number)) throw new Error(`「${question.label}」要填数字 takes a number`);
    return number;
  }
  if (question.datatype === 'singlevaluelist') return question.choices[Number(raw)].key;
  if (question.datatype === 'multivaluelist') return raw;
  return String(raw).slice(0, ANSWER_LIMIT);
}

Component({
  properties: {
    /** A place preset by a scanned entry code: { lat, lon, crs, name } (lib/place.js). */
    place: { type: Object, value: null },
  },

  data: {
    categories: [],
    categoryNames: [],
    categoryIndex: -1,
    questions: [],
    answers: {},
    description: '',
    photo: null,
    location: null,
    locating: false,
    sending: false,
    error: '',
    done: null,
  },

  lifetimes: {
    attached() {
      if (this.data.place) this.setData({ location: Object.assign({ source: 'code' }, this.data.place) });
      this.loadCatalogue();
    },
  },

  observers: {
    place(place) {
      if (place) this.setData({ location: Object.assign({ source: 'code' }, place) });
    },
  },

  methods: {
    async loadCatalogue() {
      try {
        const catalogue = await civicloop().categories();
        const categories = catalogue.categories.filter((c) => !c.disabled);
        this.setData({
          categories: categories.map((c) => ({
            code: c.code,
            name: c.name['zh-CN'],
            questions: (c.questions || []).slice().sort((a, b) => a.order - b.order),
          })),
          categoryNames: categories.map((c) => c.name['zh-CN']),
        });
      } catch (error) {
        this.setData({ error: `分类加载失败 Could not load the categories: ${error.message}` });
      }
    },

    pickCategory(event) {
      const index = Number(event.detail.value);
      const category = this.data.categories[index];
      this.setData({ categoryIndex: index, questions: category ? category.questions.map(questionView) : [], answers: {}, error: '' });
    },

    describe(event) {
      this.setData({ description: event.detail.value });
    },

    answer(event) {
      const code = event.currentTarget.dataset.code;
      this.setData({ [`answers.${code}`]: event.detail.value });
    },

    /** The camera's (or album's) photo, compressed by WeChat, uploaded at once so sending is quick. */
    async choosePhoto() {
      let path;
      try {
        const chosen = await new Promise((resolve, reject) =>
          wx.chooseMedia({ count: 1, mediaType: ['image'], sourceType: ['camera', 'album'], sizeType: ['compressed'], success: resolve, fail: reject }),
        );
        path = chosen.tempFiles[0].tempFilePath;
      } catch (error) {
        // Closing the camera is not an error.
        if (!/cancel/.test(error.errMsg || '')) this.setData({ error: `无法拍照 Could not take a photo: ${error.errMsg || error}` });
        return;
      }
      this.setData({ photo: { path, ref: '', uploading: true }, error: '' });
      try {
        const uploaded = await civicloop().uploadPhoto(path);
        this.setData({ photo: { path, ref: uploaded.ref, uploading: false } });
      } catch (error) {
        this.setData({ photo: null, error: `照片上传失败 The photo did not upload: ${error.message}` });
      }
    },

    /** Where the resident stands, in GCJ-02 (what WeChat's maps use); sent with crs so the gateway converts it. */
    async locate() {
      this.setData({ locating: true, error: '' });
      try {
        const here = await new Promise((resolve, reject) => wx.getLocation({ type: 'gcj02', isHighAccuracy: true, success: resolve, fail: reject }));
        this.setData({ location: { lat: here.latitude, lon: here.longitude, crs: 'gcj02', accuracy: here.accuracy, name: '', source: 'gps' } });
      } catch (error) {
        this.setData({ error: `无法定位，请允许使用位置 Allow location to place the report: ${error.errMsg || error}` });
      } finally {
        this.setData({ locating: false });
      }
    },

    async submit() {
      const { categories, categoryIndex, description, photo, location, questions, answers } = this.data;
      const category = categories[categoryIndex];
      const missing = !category
        ? '请选择问题类型 Choose what the problem is'
        : !location
          ? '请先定位 Place the report first'
          : photo?.uploading
            ? '照片还在上传 The photo is still uploading'
            : '';
      if (missing) return this.setData({ error: missing });
      const given = {};
      try {
        for (const question of questions) {
          const value = answerOf(question, answers[question.code]);
          if (value === undefined && question.required) throw new Error(`请回答「${question.label}」 Answer this question`);
          if (value !== undefined) given[question.code] = value;
        }
      } catch (error) {
        return this.setData({ error: error.message });
      }
      this.setData({ sending: true, error: '' });
      try {
        const ticket = await civicloop().tickets.create({
          category: category.code,
          description: description.trim() || category.name,
          location: Object.assign(
            { lat: location.lat, lon: location.lon, crs: location.crs },
            location.name ? { address: location.name } : {},
            location.accuracy ? { accuracy: Math.round(location.accuracy) } : {},
          ),
          channel: 'app',
          ...(photo ? { photos: [{ ref: photo.ref }] } : {}),
          ...(Object.keys(given).length ? { answers: given } : {}),
        });
        this.setData({ done: { number: ticket.number, id: ticket.id }, description: '', photo: null, answers: {} });
        this.triggerEvent('reported', { id: ticket.id, number: ticket.number });
      } catch (error) {
        this.setData({ error: `提交失败 Not sent: ${error.message}${error.code ? ` (${error.code})` : ''}` });
      } finally {
        this.setData({ sending: false });
      }
    },

    another() {
      this.setData({ done: null, categoryIndex: -1, questions: [] });
    },
  },
});
