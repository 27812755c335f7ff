/**
 * Image references as the engines read them.
 */

/** `redis` means `redis:latest`, as the docker CLI reads it; the API would pull every tag. */
export function withDefaultTag(image: string): string {
  const lastSlash = image.lastIndexOf('/');
  const name = image.slice(lastSlash + 1);
  return name.includes(':') || name.includes('@') ? image : `${image}:latest`;
}
