'use client';
/**
 * A preview of a backed-up picture or sound: <img> for wallpapers and screensavers, an
 * audio player for ringtones. Content a browser cannot decode says so in words, with the
 * download beside it, instead of a broken-image icon.
 */
import { useState } from 'react';

export function MediaPreview({ src, kind, label }: { src: string; kind: 'image' | 'audio'; label: string }) {
  const [broken, setBroken] = useState(false);
  if (broken) {
    return (
      <p className="text-xs text-slate-600">
        The browser cannot show this {kind === 'image' ? 'picture' : 'sound'}.{' '}
        <a href={src} download className="text-sky-700 hover:underline">
          Download it
        </a>
      </p>
    );
  }
  if (kind === 'audio') {
    return (
      <audio
        controls
        preload="none"
        src={src}
        aria-label={label}
        onError={() => setBroken(true)}
        className="h-8 w-full max-w-xs"
      />
    );
  }
  return (
    // The bytes come from the media route, not a static asset: next/image's optimiser has nothing to add.
    // eslint-disable-next-line @next/next/no-img-element
    <img
      src={src}
      alt={label}
      loading="lazy"
      onError={() => setBroken(true)}
      className="max-h-32 max-w-[12rem] rounded border border-slate-200 bg-slate-50 object-contain"
    />
  );
}
