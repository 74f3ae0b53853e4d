"""`amokpi notify`: weekly digests and new high-severity alerts by Telegram and e-mail.

What goes out is selected by SQL from the published marts (`content`), worded in the recipient's
language from the alert parameters and the KPI registry (`messages`), sent with bounded retries
(`channels`) and recorded in a sent-log of its own (`sent_log`) only once delivered (`runner`)."""
