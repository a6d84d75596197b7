import { h, lineIcon, uid } from './dom.js';
import type { Translate } from './i18n.js';
import { MAX_PHOTOS, PhotoError, preparePhoto } from './photos.js';

/** A photo chosen for the report: checked and compressed, with a preview unless the browser cannot draw it (HEIC). */
export interface PickedPhoto {
  blob: Blob;
  name: string;
  url: string | undefined;
}

export interface PhotoPicker {
  /** The camera tile, the thumbnails and the error line, in the order the form shows them. */
  elements: HTMLElement[];
  photos(): readonly PickedPhoto[];
  /** Forgets every photo (after a report is sent). */
  clear(): void;
  focus(): void;
}

/**
 * The camera first, as a large tile (the input itself stays focusable, visually hidden under it);
 * each photo checked and compressed as it is chosen, shown as a thumbnail that can be removed.
 */
export function photoPicker(options: { t: Translate }): PhotoPicker {
  const { t } = options;
  const ids = { file: uid('cl-file'), hint: uid('cl-photo-hint') };
  const photos: PickedPhoto[] = [];
  const input = h('input', {
    id: ids.file,
    type: 'file',
    class: 'sr',
    accept: 'image/jpeg,image/png,image/webp,image/heic,image/*',
    capture: 'environment',
    multiple: true,
    part: 'input',
    'aria-describedby': ids.hint,
    onchange: () => addPhotos(),
  });
  const cameraIcon = lineIcon('M4 8h3l2-3h6l2 3h3v11H4zM12 16a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z');
  const tile = h(
    'div',
    { class: 'photo-tile', part: 'photo-tile' },
    input,
    h('label', { for: ids.file }, cameraIcon, h('span', {}, t('photos'))),
    h('p', { id: ids.hint, class: 'hint' }, t('photoTileHint')),
  );
  const thumbs = h('ul', { class: 'thumbs', 'aria-label': t('photosChosen') });
  const error = h('p', { class: 'error', role: 'alert', part: 'photo-error' });

  async function addPhotos(): Promise<void> {
    error.textContent = '';
    const files = [...(input.files ?? [])];
    input.value = '';
    for (const file of files) {
      if (photos.length >= MAX_PHOTOS) {
        error.textContent = t('photoLimit');
        break;
      }
      try {
        const blob = await preparePhoto(file);
        photos.push({ blob, name: file.name, url: blob === file ? undefined : URL.createObjectURL(blob) });
      } catch (problem) {
        error.textContent = `${file.name}: ${t(problem instanceof PhotoError ? problem.problem : 'photoUndecodable')}`;
      }
    }
    renderThumbs();
  }

  function renderThumbs(): void {
    thumbs.replaceChildren(
      ...photos.map((photo, index) =>
        h(
          'li',
          {},
          photo.url ? h('img', { src: photo.url, alt: `${t('photos')} ${index + 1}` }) : h('span', { class: 'file', title: photo.name }, photo.name),
          h('button', { type: 'button', 'aria-label': `${t('photoRemove')} ${index + 1}`, onclick: () => removePhoto(index) }, '×'),
        ),
      ),
    );
  }

  function removePhoto(index: number): void {
    const [removed] = photos.splice(index, 1);
    if (removed?.url) URL.revokeObjectURL(removed.url);
    renderThumbs();
    input.focus();
  }

  return {
    elements: [tile, thumbs, error],
    photos: () => photos,
    clear: () => {
      for (const photo of photos.splice(0)) if (photo.url) URL.revokeObjectURL(photo.url);
      renderThumbs();
    },
    focus: () => input.focus(),
  };
}
