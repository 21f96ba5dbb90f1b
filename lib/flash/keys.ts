// Redis keys of one activity share the hash tag {act:ID}, so they live on one cluster slot.
export const activityKeys = (activityId: string) => {
  const tag = `{act:${activityId}}`;
  return {
    meta: `${tag}:meta`,
    users: `${tag}:users`,
    idem: `${tag}:idem`,
    stream: `${tag}:stream`,
    stats: `${tag}:stats`,
    ticket: (ticketId: string) => `${tag}:t:${ticketId}`,
  };
};

/** Activities whose streams the workers consume. */
export const ACTIVE_SET = "flash:active";
/** Pub/sub channel on which run controls announce changes to every web process. */
export const EVENTS_CHANNEL = "flash:events";
/** Consumer group of the order workers. */
export const WORKER_GROUP = "persist";

// A ticket id carries its activity id so the ticket's key (and slot) can be found from the id alone;
// the random part (128 bits) makes it unguessable.
export function parseTicketId(ticketId: string): { activityId: string } | null {
  const m = /^([a-z0-9]{8,40})\.([A-Za-z0-9_-]{22})$/.exec(ticketId);
  return m ? { activityId: m[1]! } : null;
}
