export interface Fix {
  lat: number;
  lon: number;
  /** metres */
  accuracy: number;
}

/** The device's position, or a rejection (permission denied, unavailable, timed out). */
export function locate(timeoutMs = 15_000): Promise<Fix> {
  return new Promise((resolve, reject) => {
    if (!('geolocation' in navigator)) return reject(new Error('no geolocation'));
    navigator.geolocation.getCurrentPosition(
      ({ coords }) => resolve({ lat: coords.latitude, lon: coords.longitude, accuracy: Math.round(coords.accuracy) }),
      reject,
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60_000 },
    );
  });
}

/** "23.13,113.32" (the `default-location` attribute) as a point, or undefined when malformed. */
export function parsePoint(text: string | null): { lat: number; lon: number } | undefined {
  const parts = (text ?? '').split(',').map((part) => Number(part.trim()));
  const [lat, lon] = parts;
  if (parts.length !== 2 || lat === undefined || lon === undefined || !Number.isFinite(lat) || !Number.isFinite(lon)) return undefined;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  return { lat, lon };
}
