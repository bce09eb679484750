"""The SQLite index's schema: migrations in order, tracked by ``PRAGMA user_version``.

Append new migrations; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE requests (
        app TEXT NOT NULL,
        number INTEGER NOT NULL,
        submission_id TEXT,
        title TEXT NOT NULL,
        title_folded TEXT NOT NULL,
        status TEXT NOT NULL,
        labels TEXT NOT NULL,
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        closed_at TEXT,
        github_thumbs_up INTEGER NOT NULL DEFAULT 0,
        bridge_votes INTEGER NOT NULL DEFAULT 0,
        weighted_votes INTEGER NOT NULL DEFAULT 0,
        total_votes INTEGER NOT NULL DEFAULT 0,
        trend_score REAL NOT NULL DEFAULT 0,
        duplicate_of INTEGER,
        PRIMARY KEY (app, number)
    );
    CREATE INDEX requests_top ON requests (app, total_votes DESC, number DESC);
    CREATE INDEX requests_new ON requests (app, created_at DESC, number DESC);
    CREATE INDEX requests_trending ON requests (app, trend_score DESC, number DESC);
    CREATE INDEX requests_status ON requests (app, status, total_votes DESC, number DESC);

    CREATE TABLE submissions (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL,
        source TEXT NOT NULL,
        content TEXT NOT NULL,
        created_at TEXT NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_until REAL,
        in_flight INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        number INTEGER,
        url TEXT,
        voter TEXT
    );
    CREATE INDEX submissions_due ON submissions (next_attempt_at) WHERE delivered = 0;

    CREATE TABLE idempotency_keys (
        app TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        submission_id TEXT NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (app, key)
    );

    CREATE TABLE rate_counters (
        key TEXT PRIMARY KEY,
        window_start REAL NOT NULL,
        count INTEGER NOT NULL,
        expires_at REAL NOT NULL
    );
    """,
    """
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        expires_at REAL NOT NULL
    );
    CREATE TABLE installations (
        repo TEXT PRIMARY KEY,
        installation_id INTEGER NOT NULL,
        account TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE votes (
        app TEXT NOT NULL,
        number INTEGER NOT NULL,
        voter TEXT NOT NULL,
        weight INTEGER NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (app, number, voter)
    );
    CREATE INDEX votes_by_voter ON votes (app, voter);
    ALTER TABLE requests ADD COLUMN tally_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE requests ADD COLUMN tally_written_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE requests ADD COLUMN tally_written_at REAL NOT NULL DEFAULT 0;
    CREATE INDEX requests_tally_due ON requests (tally_written_at)
        WHERE tally_version > tally_written_version;
    ALTER TABLE submissions ADD COLUMN voter_weight INTEGER NOT NULL DEFAULT 1;
    """,
    # export (issue 5, item 7): requests in (app, number) order with the export's
    # filter columns, so rows that do not match are skipped inside the index.
    """
    CREATE INDEX requests_export ON requests (app, number, status, updated_at);
    """,
    # boards (issue 6): the card's Status option on the app's board, owned by GitHub.
    """
    ALTER TABLE requests ADD COLUMN board_option TEXT;
    """,
    # analysis (issue 15): the latest analysis on the request (JSON, bridge-owned),
    # and shared counters such as the day's Bedrock tokens.
    """
    ALTER TABLE requests ADD COLUMN analysis TEXT;
    CREATE TABLE counters (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL,
        expires_at REAL NOT NULL
    );
    """,
    # leaving an app is reversible (issue 11): what only the bridge knows about a
    # request that left its app's label set, restored when the issue comes back;
    # expiring records are pruned through their expiry.
    """
    CREATE TABLE departed_requests (
        app TEXT NOT NULL,
        number INTEGER NOT NULL,
        source TEXT NOT NULL,
        submission_id TEXT,
        bridge_votes INTEGER NOT NULL,
        weighted_votes INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (app, number)
    );
    CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
    CREATE INDEX deliveries_expiry ON deliveries (expires_at);
    CREATE INDEX rate_counters_expiry ON rate_counters (expires_at);
    """,
    # similar requests (issue 14): each request's title and description for search,
    # in a table of their own with a stable rowid for the FTS5 index over it. Triggers
    # keep it in step with requests (inserts, title changes, deletes) and the index
    # with it; the store writes descriptions. Existing requests start with their
    # submission's description; those born on GitHub get theirs at the next sync.
    """
    CREATE TABLE request_text (
        id INTEGER PRIMARY KEY,
        app TEXT NOT NULL,
        number INTEGER NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        UNIQUE (app, number)
    );
    CREATE VIRTUAL TABLE request_search USING fts5(
        title, description, content='request_text', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER request_text_inserted AFTER INSERT ON request_text BEGIN
        INSERT INTO request_search (rowid, title, description)
            VALUES (new.id, new.title, new.description);
    END;
    CREATE TRIGGER request_text_deleted AFTER DELETE ON request_text BEGIN
        INSERT INTO request_search (request_search, rowid, title, description)
            VALUES ('delete', old.id, old.title, old.description);
    END;
    CREATE TRIGGER request_text_updated AFTER UPDATE ON request_text BEGIN
        INSERT INTO request_search (request_search, rowid, title, description)
            VALUES ('delete', old.id, old.title, old.description);
        INSERT INTO request_search (rowid, title, description)
            VALUES (new.id, new.title, new.description);
    END;
    CREATE TRIGGER requests_text_inserted AFTER INSERT ON requests BEGIN
        INSERT OR IGNORE INTO request_text (app, number, title)
            VALUES (new.app, new.number, new.title);
    END;
    CREATE TRIGGER requests_title_changed AFTER UPDATE OF title ON requests
        WHEN old.title IS NOT new.title BEGIN
        UPDATE request_text SET title = new.title WHERE app = new.app AND number = new.number;
    END;
    CREATE TRIGGER requests_text_deleted AFTER DELETE ON requests BEGIN
        DELETE FROM request_text WHERE app = old.app AND number = old.number;
    END;
    INSERT INTO request_text (app, number, title, description)
        SELECT requests.app, requests.number, requests.title,
            COALESCE(json_extract(submissions.content, '$.description'), '')
        FROM requests LEFT JOIN submissions ON submissions.id = requests.submission_id;
    """,
    # outgoing events (issue 20): each event's key claimed once, and one delivery per
    # event and target (ids sort by creation; pending ones are found by their next attempt).
    """
    CREATE TABLE event_claims (
        key TEXT PRIMARY KEY,
        expires_at REAL NOT NULL
    );
    CREATE INDEX event_claims_expiry ON event_claims (expires_at);
    CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        app TEXT NOT NULL,
        event TEXT NOT NULL,
        target TEXT NOT NULL,
        destination TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        next_attempt_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        last_error TEXT,
        last_attempt_at REAL
    );
    CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
    CREATE INDEX notifications_state ON notifications (state, id);
    """,
    # incremental sync (issue 24): where each app's last complete pass and full pass started.
    """
    CREATE TABLE sync_marks (
        app TEXT PRIMARY KEY,
        since TEXT,
        full_at TEXT
    );
    """,
    # email (issue 19): subscribers (one per app and address, found by the address's hash),
    # the topics each follows (a request's votes, a submission) and suppressed addresses.
    """
    CREATE TABLE email_subscribers (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL,
        address TEXT NOT NULL,
        address_key TEXT NOT NULL,
        confirmed INTEGER NOT NULL,
        unsubscribed INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        UNIQUE (app, address_key)
    );
    CREATE TABLE email_follows (
        app TEXT NOT NULL,
        topic TEXT NOT NULL,
        voter TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        PRIMARY KEY (app, topic, voter)
    );
    CREATE TABLE email_suppressions (
        address_key TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # moderation (issue 17): why an undelivered submission is held back (NULL: it is
    # sendable), its spam signals and review decisions (JSON); held ones are listed per
    # app oldest first, and the sendable backlog is counted per app for its cap.
    """
    ALTER TABLE submissions ADD COLUMN hold TEXT;
    ALTER TABLE submissions ADD COLUMN moderation TEXT;
    CREATE INDEX submissions_held ON submissions (app, hold, created_at, id)
        WHERE hold IS NOT NULL;
    CREATE INDEX submissions_queued ON submissions (app)
        WHERE delivered = 0 AND hold IS NULL;
    """,
)
