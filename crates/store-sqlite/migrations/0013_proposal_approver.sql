-- The permission a proposal's approver needs, fixed when it is made: the four-eye mechanism
-- knows no kinds, each area defines its own.
ALTER TABLE proposals ADD COLUMN approver TEXT NOT NULL DEFAULT 'approve_order_actions';
UPDATE proposals SET approver = 'approve_rules' WHERE kind = 'publish_ruleset';
