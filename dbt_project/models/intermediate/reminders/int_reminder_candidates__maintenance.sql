-- 保养 tasks that month M's list may hold (RULES.md "Reminder list for month M"): once the VIN has
-- had a maintenance repair order (首保/定期保养), due on the latest one's next_maintenance_date,
-- else its date + maintenance_interval_months (int_vehicle_due_dates); generated in the due month
-- and up to maintenance_grace_months after it, valid through the last month of that window. A
-- candidate of a later window month has a past due date (generated late, on a chain's first run).
-- (the window rule: macros/reminder_windows.sql)

{{ maintenance_window_candidates('maintenance', var('maintenance_grace_months')) }}
