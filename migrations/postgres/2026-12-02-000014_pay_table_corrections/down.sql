DROP TABLE salary_corrections;
DROP TABLE pay_table_corrections;
