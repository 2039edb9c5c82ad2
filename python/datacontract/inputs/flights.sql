CREATE TABLE flights (
  flight_id BIGINT NOT NULL PRIMARY KEY,
  date TIMESTAMP NOT NULL,
  delay INTEGER,
  distance INTEGER NOT NULL,
  origin VARCHAR(3) NOT NULL,
  destination VARCHAR(3) NOT NULL,
  fare DECIMAL(10, 2)
);
