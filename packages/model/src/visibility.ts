import { findCategory } from './categories.js';
import type { TenantPolicy } from './schemas/admin.js';

/** Whether a category's tickets are public or private in a tenant: its policy, else the catalogue. */
export function categoryVisibility(code: string, policy: Pick<TenantPolicy, 'categoryVisibility'>): 'public' | 'private' {
  const chosen = policy.categoryVisibility?.[code];
  if (chosen) return chosen;
  const category = findCategory(code);
  // A category the catalogue does not know is treated as private: nothing is shown by mistake.
  return category && !category.private ? 'public' : 'private';
}

/**
 * Whether a ticket may be shown to a reader without credentials (Open311 reads, photo URLs):
 * only when the tenant publishes at all, and only tickets of its public categories.
 */
export function isPublished(ticket: { category: string }, policy: Pick<TenantPolicy, 'publicReads' | 'categoryVisibility'>): boolean {
  return policy.publicReads === true && categoryVisibility(ticket.category, policy) === 'public';
}
