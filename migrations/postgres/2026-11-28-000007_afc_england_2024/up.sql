-- NHS Agenda for Change bands 2 to 6 for England from 1 April 2024 (national bands, kept by
-- admins), from seed/afc-england-2024-25.csv. Source: NHS Careers, "Agenda for Change pay
-- rates" 2024/25. Amounts in pence; years_to_next from the years in band at which the next
-- point applies.

INSERT INTO salary_bands (id, organisation_id, code, code_key, name, currency, created_at) VALUES ('0193a000-0000-7000-8000-000000000002', NULL, 'AfC-2', 'afc-2', 'Agenda for Change band 2 (England)', 'GBP', '2026-11-28 00:00:00');
INSERT INTO pay_tables (id, band_id, effective_from, source, created_by, created_at) VALUES ('0193a000-0000-7000-8000-000000000102', '0193a000-0000-7000-8000-000000000002', '2024-04-01', 'NHS Careers: Agenda for Change pay rates 2024/25 (England)', NULL, '2026-11-28 00:00:00');
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000102', 1, 2361500, NULL);
INSERT INTO salary_bands (id, organisation_id, code, code_key, name, currency, created_at) VALUES ('0193a000-0000-7000-8000-000000000003', NULL, 'AfC-3', 'afc-3', 'Agenda for Change band 3 (England)', 'GBP', '2026-11-28 00:00:00');
INSERT INTO pay_tables (id, band_id, effective_from, source, created_by, created_at) VALUES ('0193a000-0000-7000-8000-000000000103', '0193a000-0000-7000-8000-000000000003', '2024-04-01', 'NHS Careers: Agenda for Change pay rates 2024/25 (England)', NULL, '2026-11-28 00:00:00');
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000103', 1, 2407100, 2);
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000103', 2, 2567400, NULL);
INSERT INTO salary_bands (id, organisation_id, code, code_key, name, currency, created_at) VALUES ('0193a000-0000-7000-8000-000000000004', NULL, 'AfC-4', 'afc-4', 'Agenda for Change band 4 (England)', 'GBP', '2026-11-28 00:00:00');
INSERT INTO pay_tables (id, band_id, effective_from, source, created_by, created_at) VALUES ('0193a000-0000-7000-8000-000000000104', '0193a000-0000-7000-8000-000000000004', '2024-04-01', 'NHS Careers: Agenda for Change pay rates 2024/25 (England)', NULL, '2026-11-28 00:00:00');
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000104', 1, 2653000, 3);
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000104', 2, 2911400, NULL);
INSERT INTO salary_bands (id, organisation_id, code, code_key, name, currency, created_at) VALUES ('0193a000-0000-7000-8000-000000000005', NULL, 'AfC-5', 'afc-5', 'Agenda for Change band 5 (England)', 'GBP', '2026-11-28 00:00:00');
INSERT INTO pay_tables (id, band_id, effective_from, source, created_by, created_at) VALUES ('0193a000-0000-7000-8000-000000000105', '0193a000-0000-7000-8000-000000000005', '2024-04-01', 'NHS Careers: Agenda for Change pay rates 2024/25 (England)', NULL, '2026-11-28 00:00:00');
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000105', 1, 2997000, 2);
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000105', 2, 3232400, 2);
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000105', 3, 3648300, NULL);
INSERT INTO salary_bands (id, organisation_id, code, code_key, name, currency, created_at) VALUES ('0193a000-0000-7000-8000-000000000006', NULL, 'AfC-6', 'afc-6', 'Agenda for Change band 6 (England)', 'GBP', '2026-11-28 00:00:00');
INSERT INTO pay_tables (id, band_id, effective_from, source, created_by, created_at) VALUES ('0193a000-0000-7000-8000-000000000106', '0193a000-0000-7000-8000-000000000006', '2024-04-01', 'NHS Careers: Agenda for Change pay rates 2024/25 (England)', NULL, '2026-11-28 00:00:00');
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000106', 1, 3733800, 2);
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000106', 2, 3940500, 3);
INSERT INTO pay_points (pay_table_id, point, annual_minor, years_to_next) VALUES ('0193a000-0000-7000-8000-000000000106', 3, 4496200, NULL);
