// Intl-based date, time and number formatting for a dictionary's `format` section.

/** intlFormat builds the `format` section of a dictionary from Intl for a language tag (times in UTC, marked so). */
export function intlFormat(tag: string) {
  const date = new Intl.DateTimeFormat(tag, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' });
  const dateTime = new Intl.DateTimeFormat(tag, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });
  const number = new Intl.NumberFormat(tag);
  return {
    date: (d: Date, _iso: string) => date.format(d),
    dateTime: (d: Date, _iso: string) => `${dateTime.format(d)} UTC`,
    number: (n: number) => number.format(n),
  };
}
