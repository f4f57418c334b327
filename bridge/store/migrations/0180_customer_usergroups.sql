-- issue 18: which CS-Cart usergroups a customer was in, and when (the campaigns report's eligible orders for a
-- campaign that targets usergroups). Read by the campaigns job for the groups campaigns.yaml names.
CREATE TABLE customer_usergroups (
    user_id INTEGER NOT NULL,
    usergroup TEXT NOT NULL,   -- the group's name, as campaigns.yaml names it
    since TEXT NOT NULL,       -- ISO UTC when first seen a member; '' = already one at the first read of the group
    until TEXT,                -- ISO UTC when first seen no longer a member; NULL = still one
    PRIMARY KEY (user_id, usergroup, since)
);
CREATE INDEX customer_usergroups_group ON customer_usergroups (usergroup, until);

CREATE TABLE customer_usergroups_read (
    usergroup TEXT PRIMARY KEY,  -- a group whose members have been read at least once
    first_read TEXT NOT NULL,
    last_read TEXT NOT NULL
);
