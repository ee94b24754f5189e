//! Russian public holidays from the PyPI `holidays` package 0.34: every date of `holidays.RU()`
//! for 1991–2040, with the days off moved by decree that this version knows. Generated
//! by `scripts/gen-holidays.py --expect 0.34`; do not edit (`scripts/check-holidays.sh` checks it).

/// The `holidays` package version the dates come from.
pub const VERSION: &str = "0.34";
/// First year covered.
pub const FIRST_YEAR: i32 = 1991;
/// Last year covered.
pub const LAST_YEAR: i32 = 2040;

/// Every date off, (year, month, day), ascending.
#[rustfmt::skip]
pub const DATES: &[(i32, u32, u32)] = &[
    (1991, 1, 1), // New Year's Day
    (1991, 1, 7), // Christmas Day
    (1991, 3, 8), // International Women's Day
    (1991, 5, 1), // International Workers' Solidarity Day
    (1991, 5, 2), // International Workers' Solidarity Day
    (1991, 5, 9), // Victory Day
    (1991, 11, 7), // Anniversary of the Great October Socialist Revolution
    (1991, 11, 8), // Anniversary of the Great October Socialist Revolution
    (1992, 1, 1), // New Year's Day
    (1992, 1, 7), // Christmas Day
    (1992, 3, 8), // International Women's Day
    (1992, 5, 1), // Holiday of Spring and Labor
    (1992, 5, 2), // Holiday of Spring and Labor
    (1992, 5, 9), // Victory Day
    (1992, 6, 12), // Day of the Adoption of the Declaration of Sovereignty of the Russian Federation
    (1992, 11, 7), // Anniversary of the Great October Socialist Revolution
    (1993, 1, 1), // New Year's Day
    (1993, 1, 2), // New Year's Day
    (1993, 1, 7), // Christmas Day
    (1993, 3, 8), // International Women's Day
    (1993, 5, 1), // Holiday of Spring and Labor
    (1993, 5, 2), // Holiday of Spring and Labor
    (1993, 5, 9), // Victory Day
    (1993, 6, 12), // Day of the Adoption of the Declaration of Sovereignty of the Russian Federation
    (1993, 11, 7), // Anniversary of the Great October Socialist Revolution
    (1994, 1, 1), // New Year's Day
    (1994, 1, 2), // New Year's Day
    (1994, 1, 7), // Christmas Day
    (1994, 3, 8), // International Women's Day
    (1994, 5, 1), // Holiday of Spring and Labor
    (1994, 5, 2), // Holiday of Spring and Labor
    (1994, 5, 9), // Victory Day
    (1994, 6, 12), // Day of the Adoption of the Declaration of Sovereignty of the Russian Federation
    (1994, 11, 7), // Anniversary of the Great October Socialist Revolution
    (1995, 1, 1), // New Year's Day
    (1995, 1, 2), // New Year's Day
    (1995, 1, 7), // Christmas Day
    (1995, 3, 8), // International Women's Day
    (1995, 5, 1), // Holiday of Spring and Labor
    (1995, 5, 2), // Holiday of Spring and Labor
    (1995, 5, 9), // Victory Day
    (1995, 6, 12), // Day of the Adoption of the Declaration of Sovereignty of the Russian Federation
    (1995, 11, 7), // Anniversary of the Great October Socialist Revolution
    (1996, 1, 1), // New Year's Day
    (1996, 1, 2), // New Year's Day
    (1996, 1, 7), // Christmas Day
    (1996, 3, 8), // International Women's Day
    (1996, 5, 1), // Holiday of Spring and Labor
    (1996, 5, 2), // Holiday of Spring and Labor
    (1996, 5, 9), // Victory Day
    (1996, 6, 12), // Day of the Adoption of the Declaration of Sovereignty of the Russian Federation
    (1996, 11, 7), // Day of consent and reconciliation
    (1997, 1, 1), // New Year's Day
    (1997, 1, 2), // New Year's Day
    (1997, 1, 7), // Christmas Day
    (1997, 3, 8), // International Women's Day
    (1997, 5, 1), // Holiday of Spring and Labor
    (1997, 5, 2), // Holiday of Spring and Labor
    (1997, 5, 9), // Victory Day
    (1997, 6, 12), // Day of the Adoption of the Declaration of Sovereignty of the Russian Federation
    (1997, 11, 7), // Day of consent and reconciliation
    (1998, 1, 1), // New Year's Day
    (1998, 1, 2), // New Year's Day
    (1998, 1, 7), // Christmas Day
    (1998, 3, 8), // International Women's Day
    (1998, 5, 1), // Holiday of Spring and Labor
    (1998, 5, 2), // Holiday of Spring and Labor
    (1998, 5, 9), // Victory Day
    (1998, 6, 12), // Day of the Adoption of the Declaration of Sovereignty of the Russian Federation
    (1998, 11, 7), // Day of consent and reconciliation
    (1999, 1, 1), // New Year's Day
    (1999, 1, 2), // New Year's Day
    (1999, 1, 7), // Christmas Day
    (1999, 3, 8), // International Women's Day
    (1999, 5, 1), // Holiday of Spring and Labor
    (1999, 5, 2), // Holiday of Spring and Labor
    (1999, 5, 9), // Victory Day
    (1999, 6, 12), // Day of the Adoption of the Declaration of Sovereignty of the Russian Federation
    (1999, 11, 7), // Day of consent and reconciliation
    (2000, 1, 1), // New Year's Day
    (2000, 1, 2), // New Year's Day
    (2000, 1, 7), // Christmas Day
    (2000, 3, 8), // International Women's Day
    (2000, 5, 1), // Holiday of Spring and Labor
    (2000, 5, 2), // Holiday of Spring and Labor
    (2000, 5, 9), // Victory Day
    (2000, 6, 12), // Day of the Adoption of the Declaration of Sovereignty of the Russian Federation
    (2000, 11, 7), // Day of consent and reconciliation
    (2001, 1, 1), // New Year's Day
    (2001, 1, 2), // New Year's Day
    (2001, 1, 7), // Christmas Day
    (2001, 3, 8), // International Women's Day
    (2001, 5, 1), // Holiday of Spring and Labor
    (2001, 5, 2), // Holiday of Spring and Labor
    (2001, 5, 9), // Victory Day
    (2001, 6, 12), // Day of the Adoption of the Declaration of Sovereignty of the Russian Federation
    (2001, 11, 7), // Day of consent and reconciliation
    (2002, 1, 1), // New Year's Day
    (2002, 1, 2), // New Year's Day
    (2002, 1, 7), // Christmas Day
    (2002, 2, 23), // Fatherland Defender's Day
    (2002, 3, 8), // International Women's Day
    (2002, 5, 1), // Holiday of Spring and Labor
    (2002, 5, 2), // Holiday of Spring and Labor
    (2002, 5, 9), // Victory Day
    (2002, 6, 12), // Russia Day
    (2002, 11, 7), // Day of consent and reconciliation
    (2003, 1, 1), // New Year's Day
    (2003, 1, 2), // New Year's Day
    (2003, 1, 7), // Christmas Day
    (2003, 2, 23), // Fatherland Defender's Day
    (2003, 3, 8), // International Women's Day
    (2003, 5, 1), // Holiday of Spring and Labor
    (2003, 5, 2), // Holiday of Spring and Labor
    (2003, 5, 9), // Victory Day
    (2003, 6, 12), // Russia Day
    (2003, 11, 7), // Day of consent and reconciliation
    (2004, 1, 1), // New Year's Day
    (2004, 1, 2), // New Year's Day
    (2004, 1, 7), // Christmas Day
    (2004, 2, 23), // Fatherland Defender's Day
    (2004, 3, 8), // International Women's Day
    (2004, 5, 1), // Holiday of Spring and Labor
    (2004, 5, 2), // Holiday of Spring and Labor
    (2004, 5, 9), // Victory Day
    (2004, 6, 12), // Russia Day
    (2004, 11, 7), // Day of consent and reconciliation
    (2005, 1, 1), // New Year Holidays
    (2005, 1, 2), // New Year Holidays
    (2005, 1, 3), // New Year Holidays
    (2005, 1, 4), // New Year Holidays
    (2005, 1, 5), // New Year Holidays
    (2005, 1, 7), // Christmas Day
    (2005, 2, 23), // Fatherland Defender's Day
    (2005, 3, 8), // International Women's Day
    (2005, 5, 1), // Holiday of Spring and Labor
    (2005, 5, 9), // Victory Day
    (2005, 6, 12), // Russia Day
    (2005, 11, 4), // Unity Day
    (2006, 1, 1), // New Year Holidays
    (2006, 1, 2), // New Year Holidays
    (2006, 1, 3), // New Year Holidays
    (2006, 1, 4), // New Year Holidays
    (2006, 1, 5), // New Year Holidays
    (2006, 1, 7), // Christmas Day
    (2006, 2, 23), // Fatherland Defender's Day
    (2006, 3, 8), // International Women's Day
    (2006, 5, 1), // Holiday of Spring and Labor
    (2006, 5, 9), // Victory Day
    (2006, 6, 12), // Russia Day
    (2006, 11, 4), // Unity Day
    (2007, 1, 1), // New Year Holidays
    (2007, 1, 2), // New Year Holidays
    (2007, 1, 3), // New Year Holidays
    (2007, 1, 4), // New Year Holidays
    (2007, 1, 5), // New Year Holidays
    (2007, 1, 7), // Christmas Day
    (2007, 2, 23), // Fatherland Defender's Day
    (2007, 3, 8), // International Women's Day
    (2007, 5, 1), // Holiday of Spring and Labor
    (2007, 5, 9), // Victory Day
    (2007, 6, 12), // Russia Day
    (2007, 11, 4), // Unity Day
    (2008, 1, 1), // New Year Holidays
    (2008, 1, 2), // New Year Holidays
    (2008, 1, 3), // New Year Holidays
    (2008, 1, 4), // New Year Holidays
    (2008, 1, 5), // New Year Holidays
    (2008, 1, 7), // Christmas Day
    (2008, 2, 23), // Fatherland Defender's Day
    (2008, 3, 8), // International Women's Day
    (2008, 5, 1), // Holiday of Spring and Labor
    (2008, 5, 9), // Victory Day
    (2008, 6, 12), // Russia Day
    (2008, 11, 4), // Unity Day
    (2009, 1, 1), // New Year Holidays
    (2009, 1, 2), // New Year Holidays
    (2009, 1, 3), // New Year Holidays
    (2009, 1, 4), // New Year Holidays
    (2009, 1, 5), // New Year Holidays
    (2009, 1, 7), // Christmas Day
    (2009, 2, 23), // Fatherland Defender's Day
    (2009, 3, 8), // International Women's Day
    (2009, 5, 1), // Holiday of Spring and Labor
    (2009, 5, 9), // Victory Day
    (2009, 6, 12), // Russia Day
    (2009, 11, 4), // Unity Day
    (2010, 1, 1), // New Year Holidays
    (2010, 1, 2), // New Year Holidays
    (2010, 1, 3), // New Year Holidays
    (2010, 1, 4), // New Year Holidays
    (2010, 1, 5), // New Year Holidays
    (2010, 1, 7), // Christmas Day
    (2010, 2, 23), // Fatherland Defender's Day
    (2010, 3, 8), // International Women's Day
    (2010, 5, 1), // Holiday of Spring and Labor
    (2010, 5, 9), // Victory Day
    (2010, 6, 12), // Russia Day
    (2010, 11, 4), // Unity Day
    (2011, 1, 1), // New Year Holidays
    (2011, 1, 2), // New Year Holidays
    (2011, 1, 3), // New Year Holidays
    (2011, 1, 4), // New Year Holidays
    (2011, 1, 5), // New Year Holidays
    (2011, 1, 7), // Christmas Day
    (2011, 2, 23), // Fatherland Defender's Day
    (2011, 3, 8), // International Women's Day
    (2011, 5, 1), // Holiday of Spring and Labor
    (2011, 5, 9), // Victory Day
    (2011, 6, 12), // Russia Day
    (2011, 11, 4), // Unity Day
    (2012, 1, 1), // New Year Holidays
    (2012, 1, 2), // New Year Holidays
    (2012, 1, 3), // New Year Holidays
    (2012, 1, 4), // New Year Holidays
    (2012, 1, 5), // New Year Holidays
    (2012, 1, 7), // Christmas Day
    (2012, 2, 23), // Fatherland Defender's Day
    (2012, 3, 8), // International Women's Day
    (2012, 5, 1), // Holiday of Spring and Labor
    (2012, 5, 9), // Victory Day
    (2012, 6, 12), // Russia Day
    (2012, 11, 4), // Unity Day
    (2013, 1, 1), // New Year Holidays
    (2013, 1, 2), // New Year Holidays
    (2013, 1, 3), // New Year Holidays
    (2013, 1, 4), // New Year Holidays
    (2013, 1, 5), // New Year Holidays
    (2013, 1, 6), // New Year Holidays
    (2013, 1, 7), // Christmas Day
    (2013, 1, 8), // New Year Holidays
    (2013, 2, 23), // Fatherland Defender's Day
    (2013, 3, 8), // International Women's Day
    (2013, 5, 1), // Holiday of Spring and Labor
    (2013, 5, 9), // Victory Day
    (2013, 6, 12), // Russia Day
    (2013, 11, 4), // Unity Day
    (2014, 1, 1), // New Year Holidays
    (2014, 1, 2), // New Year Holidays
    (2014, 1, 3), // New Year Holidays
    (2014, 1, 4), // New Year Holidays
    (2014, 1, 5), // New Year Holidays
    (2014, 1, 6), // New Year Holidays
    (2014, 1, 7), // Christmas Day
    (2014, 1, 8), // New Year Holidays
    (2014, 2, 23), // Fatherland Defender's Day
    (2014, 3, 8), // International Women's Day
    (2014, 5, 1), // Holiday of Spring and Labor
    (2014, 5, 9), // Victory Day
    (2014, 6, 12), // Russia Day
    (2014, 11, 4), // Unity Day
    (2015, 1, 1), // New Year Holidays
    (2015, 1, 2), // New Year Holidays
    (2015, 1, 3), // New Year Holidays
    (2015, 1, 4), // New Year Holidays
    (2015, 1, 5), // New Year Holidays
    (2015, 1, 6), // New Year Holidays
    (2015, 1, 7), // Christmas Day
    (2015, 1, 8), // New Year Holidays
    (2015, 2, 23), // Fatherland Defender's Day
    (2015, 3, 8), // International Women's Day
    (2015, 5, 1), // Holiday of Spring and Labor
    (2015, 5, 9), // Victory Day
    (2015, 6, 12), // Russia Day
    (2015, 11, 4), // Unity Day
    (2016, 1, 1), // New Year Holidays
    (2016, 1, 2), // New Year Holidays
    (2016, 1, 3), // New Year Holidays
    (2016, 1, 4), // New Year Holidays
    (2016, 1, 5), // New Year Holidays
    (2016, 1, 6), // New Year Holidays
    (2016, 1, 7), // Christmas Day
    (2016, 1, 8), // New Year Holidays
    (2016, 2, 23), // Fatherland Defender's Day
    (2016, 3, 8), // International Women's Day
    (2016, 5, 1), // Holiday of Spring and Labor
    (2016, 5, 9), // Victory Day
    (2016, 6, 12), // Russia Day
    (2016, 11, 4), // Unity Day
    (2017, 1, 1), // New Year Holidays
    (2017, 1, 2), // New Year Holidays
    (2017, 1, 3), // New Year Holidays
    (2017, 1, 4), // New Year Holidays
    (2017, 1, 5), // New Year Holidays
    (2017, 1, 6), // New Year Holidays
    (2017, 1, 7), // Christmas Day
    (2017, 1, 8), // New Year Holidays
    (2017, 2, 23), // Fatherland Defender's Day
    (2017, 3, 8), // International Women's Day
    (2017, 5, 1), // Holiday of Spring and Labor
    (2017, 5, 9), // Victory Day
    (2017, 6, 12), // Russia Day
    (2017, 11, 4), // Unity Day
    (2018, 1, 1), // New Year Holidays
    (2018, 1, 2), // New Year Holidays
    (2018, 1, 3), // New Year Holidays
    (2018, 1, 4), // New Year Holidays
    (2018, 1, 5), // New Year Holidays
    (2018, 1, 6), // New Year Holidays
    (2018, 1, 7), // Christmas Day
    (2018, 1, 8), // New Year Holidays
    (2018, 2, 23), // Fatherland Defender's Day
    (2018, 3, 8), // International Women's Day
    (2018, 5, 1), // Holiday of Spring and Labor
    (2018, 5, 9), // Victory Day
    (2018, 6, 12), // Russia Day
    (2018, 11, 4), // Unity Day
    (2019, 1, 1), // New Year Holidays
    (2019, 1, 2), // New Year Holidays
    (2019, 1, 3), // New Year Holidays
    (2019, 1, 4), // New Year Holidays
    (2019, 1, 5), // New Year Holidays
    (2019, 1, 6), // New Year Holidays
    (2019, 1, 7), // Christmas Day
    (2019, 1, 8), // New Year Holidays
    (2019, 2, 23), // Fatherland Defender's Day
    (2019, 3, 8), // International Women's Day
    (2019, 5, 1), // Holiday of Spring and Labor
    (2019, 5, 9), // Victory Day
    (2019, 6, 12), // Russia Day
    (2019, 11, 4), // Unity Day
    (2020, 1, 1), // New Year Holidays
    (2020, 1, 2), // New Year Holidays
    (2020, 1, 3), // New Year Holidays
    (2020, 1, 4), // New Year Holidays
    (2020, 1, 5), // New Year Holidays
    (2020, 1, 6), // New Year Holidays
    (2020, 1, 7), // Christmas Day
    (2020, 1, 8), // New Year Holidays
    (2020, 2, 23), // Fatherland Defender's Day
    (2020, 3, 8), // International Women's Day
    (2020, 5, 1), // Holiday of Spring and Labor
    (2020, 5, 9), // Victory Day
    (2020, 6, 12), // Russia Day
    (2020, 11, 4), // Unity Day
    (2021, 1, 1), // New Year Holidays
    (2021, 1, 2), // New Year Holidays
    (2021, 1, 3), // New Year Holidays
    (2021, 1, 4), // New Year Holidays
    (2021, 1, 5), // New Year Holidays
    (2021, 1, 6), // New Year Holidays
    (2021, 1, 7), // Christmas Day
    (2021, 1, 8), // New Year Holidays
    (2021, 2, 23), // Fatherland Defender's Day
    (2021, 3, 8), // International Women's Day
    (2021, 5, 1), // Holiday of Spring and Labor
    (2021, 5, 9), // Victory Day
    (2021, 6, 12), // Russia Day
    (2021, 11, 4), // Unity Day
    (2022, 1, 1), // New Year Holidays
    (2022, 1, 2), // New Year Holidays
    (2022, 1, 3), // New Year Holidays
    (2022, 1, 4), // New Year Holidays
    (2022, 1, 5), // New Year Holidays
    (2022, 1, 6), // New Year Holidays
    (2022, 1, 7), // Christmas Day
    (2022, 1, 8), // New Year Holidays
    (2022, 2, 23), // Fatherland Defender's Day
    (2022, 3, 8), // International Women's Day
    (2022, 5, 1), // Holiday of Spring and Labor
    (2022, 5, 9), // Victory Day
    (2022, 6, 12), // Russia Day
    (2022, 11, 4), // Unity Day
    (2023, 1, 1), // New Year Holidays
    (2023, 1, 2), // New Year Holidays
    (2023, 1, 3), // New Year Holidays
    (2023, 1, 4), // New Year Holidays
    (2023, 1, 5), // New Year Holidays
    (2023, 1, 6), // New Year Holidays
    (2023, 1, 7), // Christmas Day
    (2023, 1, 8), // New Year Holidays
    (2023, 2, 23), // Fatherland Defender's Day
    (2023, 2, 24), // Fatherland Defender's Day
    (2023, 3, 8), // International Women's Day
    (2023, 5, 1), // Holiday of Spring and Labor
    (2023, 5, 8), // Victory Day
    (2023, 5, 9), // Victory Day
    (2023, 6, 12), // Russia Day
    (2023, 11, 4), // Unity Day
    (2024, 1, 1), // New Year Holidays
    (2024, 1, 2), // New Year Holidays
    (2024, 1, 3), // New Year Holidays
    (2024, 1, 4), // New Year Holidays
    (2024, 1, 5), // New Year Holidays
    (2024, 1, 6), // New Year Holidays
    (2024, 1, 7), // Christmas Day
    (2024, 1, 8), // New Year Holidays
    (2024, 2, 23), // Fatherland Defender's Day
    (2024, 3, 8), // International Women's Day
    (2024, 5, 1), // Holiday of Spring and Labor
    (2024, 5, 9), // Victory Day
    (2024, 6, 12), // Russia Day
    (2024, 11, 4), // Unity Day
    (2025, 1, 1), // New Year Holidays
    (2025, 1, 2), // New Year Holidays
    (2025, 1, 3), // New Year Holidays
    (2025, 1, 4), // New Year Holidays
    (2025, 1, 5), // New Year Holidays
    (2025, 1, 6), // New Year Holidays
    (2025, 1, 7), // Christmas Day
    (2025, 1, 8), // New Year Holidays
    (2025, 2, 23), // Fatherland Defender's Day
    (2025, 3, 8), // International Women's Day
    (2025, 5, 1), // Holiday of Spring and Labor
    (2025, 5, 9), // Victory Day
    (2025, 6, 12), // Russia Day
    (2025, 11, 4), // Unity Day
    (2026, 1, 1), // New Year Holidays
    (2026, 1, 2), // New Year Holidays
    (2026, 1, 3), // New Year Holidays
    (2026, 1, 4), // New Year Holidays
    (2026, 1, 5), // New Year Holidays
    (2026, 1, 6), // New Year Holidays
    (2026, 1, 7), // Christmas Day
    (2026, 1, 8), // New Year Holidays
    (2026, 2, 23), // Fatherland Defender's Day
    (2026, 3, 8), // International Women's Day
    (2026, 5, 1), // Holiday of Spring and Labor
    (2026, 5, 9), // Victory Day
    (2026, 6, 12), // Russia Day
    (2026, 11, 4), // Unity Day
    (2027, 1, 1), // New Year Holidays
    (2027, 1, 2), // New Year Holidays
    (2027, 1, 3), // New Year Holidays
    (2027, 1, 4), // New Year Holidays
    (2027, 1, 5), // New Year Holidays
    (2027, 1, 6), // New Year Holidays
    (2027, 1, 7), // Christmas Day
    (2027, 1, 8), // New Year Holidays
    (2027, 2, 23), // Fatherland Defender's Day
    (2027, 3, 8), // International Women's Day
    (2027, 5, 1), // Holiday of Spring and Labor
    (2027, 5, 9), // Victory Day
    (2027, 6, 12), // Russia Day
    (2027, 11, 4), // Unity Day
    (2028, 1, 1), // New Year Holidays
    (2028, 1, 2), // New Year Holidays
    (2028, 1, 3), // New Year Holidays
    (2028, 1, 4), // New Year Holidays
    (2028, 1, 5), // New Year Holidays
    (2028, 1, 6), // New Year Holidays
    (2028, 1, 7), // Christmas Day
    (2028, 1, 8), // New Year Holidays
    (2028, 2, 23), // Fatherland Defender's Day
    (2028, 3, 8), // International Women's Day
    (2028, 5, 1), // Holiday of Spring and Labor
    (2028, 5, 9), // Victory Day
    (2028, 6, 12), // Russia Day
    (2028, 11, 4), // Unity Day
    (2029, 1, 1), // New Year Holidays
    (2029, 1, 2), // New Year Holidays
    (2029, 1, 3), // New Year Holidays
    (2029, 1, 4), // New Year Holidays
    (2029, 1, 5), // New Year Holidays
    (2029, 1, 6), // New Year Holidays
    (2029, 1, 7), // Christmas Day
    (2029, 1, 8), // New Year Holidays
    (2029, 2, 23), // Fatherland Defender's Day
    (2029, 3, 8), // International Women's Day
    (2029, 5, 1), // Holiday of Spring and Labor
    (2029, 5, 9), // Victory Day
    (2029, 6, 12), // Russia Day
    (2029, 11, 4), // Unity Day
    (2030, 1, 1), // New Year Holidays
    (2030, 1, 2), // New Year Holidays
    (2030, 1, 3), // New Year Holidays
    (2030, 1, 4), // New Year Holidays
    (2030, 1, 5), // New Year Holidays
    (2030, 1, 6), // New Year Holidays
    (2030, 1, 7), // Christmas Day
    (2030, 1, 8), // New Year Holidays
    (2030, 2, 23), // Fatherland Defender's Day
    (2030, 3, 8), // International Women's Day
    (2030, 5, 1), // Holiday of Spring and Labor
    (2030, 5, 9), // Victory Day
    (2030, 6, 12), // Russia Day
    (2030, 11, 4), // Unity Day
    (2031, 1, 1), // New Year Holidays
    (2031, 1, 2), // New Year Holidays
    (2031, 1, 3), // New Year Holidays
    (2031, 1, 4), // New Year Holidays
    (2031, 1, 5), // New Year Holidays
    (2031, 1, 6), // New Year Holidays
    (2031, 1, 7), // Christmas Day
    (2031, 1, 8), // New Year Holidays
    (2031, 2, 23), // Fatherland Defender's Day
    (2031, 3, 8), // International Women's Day
    (2031, 5, 1), // Holiday of Spring and Labor
    (2031, 5, 9), // Victory Day
    (2031, 6, 12), // Russia Day
    (2031, 11, 4), // Unity Day
    (2032, 1, 1), // New Year Holidays
    (2032, 1, 2), // New Year Holidays
    (2032, 1, 3), // New Year Holidays
    (2032, 1, 4), // New Year Holidays
    (2032, 1, 5), // New Year Holidays
    (2032, 1, 6), // New Year Holidays
    (2032, 1, 7), // Christmas Day
    (2032, 1, 8), // New Year Holidays
    (2032, 2, 23), // Fatherland Defender's Day
    (2032, 3, 8), // International Women's Day
    (2032, 5, 1), // Holiday of Spring and Labor
    (2032, 5, 9), // Victory Day
    (2032, 6, 12), // Russia Day
    (2032, 11, 4), // Unity Day
    (2033, 1, 1), // New Year Holidays
    (2033, 1, 2), // New Year Holidays
    (2033, 1, 3), // New Year Holidays
    (2033, 1, 4), // New Year Holidays
    (2033, 1, 5), // New Year Holidays
    (2033, 1, 6), // New Year Holidays
    (2033, 1, 7), // Christmas Day
    (2033, 1, 8), // New Year Holidays
    (2033, 2, 23), // Fatherland Defender's Day
    (2033, 3, 8), // International Women's Day
    (2033, 5, 1), // Holiday of Spring and Labor
    (2033, 5, 9), // Victory Day
    (2033, 6, 12), // Russia Day
    (2033, 11, 4), // Unity Day
    (2034, 1, 1), // New Year Holidays
    (2034, 1, 2), // New Year Holidays
    (2034, 1, 3), // New Year Holidays
    (2034, 1, 4), // New Year Holidays
    (2034, 1, 5), // New Year Holidays
    (2034, 1, 6), // New Year Holidays
    (2034, 1, 7), // Christmas Day
    (2034, 1, 8), // New Year Holidays
    (2034, 2, 23), // Fatherland Defender's Day
    (2034, 3, 8), // International Women's Day
    (2034, 5, 1), // Holiday of Spring and Labor
    (2034, 5, 9), // Victory Day
    (2034, 6, 12), // Russia Day
    (2034, 11, 4), // Unity Day
    (2035, 1, 1), // New Year Holidays
    (2035, 1, 2), // New Year Holidays
    (2035, 1, 3), // New Year Holidays
    (2035, 1, 4), // New Year Holidays
    (2035, 1, 5), // New Year Holidays
    (2035, 1, 6), // New Year Holidays
    (2035, 1, 7), // Christmas Day
    (2035, 1, 8), // New Year Holidays
    (2035, 2, 23), // Fatherland Defender's Day
    (2035, 3, 8), // International Women's Day
    (2035, 5, 1), // Holiday of Spring and Labor
    (2035, 5, 9), // Victory Day
    (2035, 6, 12), // Russia Day
    (2035, 11, 4), // Unity Day
    (2036, 1, 1), // New Year Holidays
    (2036, 1, 2), // New Year Holidays
    (2036, 1, 3), // New Year Holidays
    (2036, 1, 4), // New Year Holidays
    (2036, 1, 5), // New Year Holidays
    (2036, 1, 6), // New Year Holidays
    (2036, 1, 7), // Christmas Day
    (2036, 1, 8), // New Year Holidays
    (2036, 2, 23), // Fatherland Defender's Day
    (2036, 3, 8), // International Women's Day
    (2036, 5, 1), // Holiday of Spring and Labor
    (2036, 5, 9), // Victory Day
    (2036, 6, 12), // Russia Day
    (2036, 11, 4), // Unity Day
    (2037, 1, 1), // New Year Holidays
    (2037, 1, 2), // New Year Holidays
    (2037, 1, 3), // New Year Holidays
    (2037, 1, 4), // New Year Holidays
    (2037, 1, 5), // New Year Holidays
    (2037, 1, 6), // New Year Holidays
    (2037, 1, 7), // Christmas Day
    (2037, 1, 8), // New Year Holidays
    (2037, 2, 23), // Fatherland Defender's Day
    (2037, 3, 8), // International Women's Day
    (2037, 5, 1), // Holiday of Spring and Labor
    (2037, 5, 9), // Victory Day
    (2037, 6, 12), // Russia Day
    (2037, 11, 4), // Unity Day
    (2038, 1, 1), // New Year Holidays
    (2038, 1, 2), // New Year Holidays
    (2038, 1, 3), // New Year Holidays
    (2038, 1, 4), // New Year Holidays
    (2038, 1, 5), // New Year Holidays
    (2038, 1, 6), // New Year Holidays
    (2038, 1, 7), // Christmas Day
    (2038, 1, 8), // New Year Holidays
    (2038, 2, 23), // Fatherland Defender's Day
    (2038, 3, 8), // International Women's Day
    (2038, 5, 1), // Holiday of Spring and Labor
    (2038, 5, 9), // Victory Day
    (2038, 6, 12), // Russia Day
    (2038, 11, 4), // Unity Day
    (2039, 1, 1), // New Year Holidays
    (2039, 1, 2), // New Year Holidays
    (2039, 1, 3), // New Year Holidays
    (2039, 1, 4), // New Year Holidays
    (2039, 1, 5), // New Year Holidays
    (2039, 1, 6), // New Year Holidays
    (2039, 1, 7), // Christmas Day
    (2039, 1, 8), // New Year Holidays
    (2039, 2, 23), // Fatherland Defender's Day
    (2039, 3, 8), // International Women's Day
    (2039, 5, 1), // Holiday of Spring and Labor
    (2039, 5, 9), // Victory Day
    (2039, 6, 12), // Russia Day
    (2039, 11, 4), // Unity Day
    (2040, 1, 1), // New Year Holidays
    (2040, 1, 2), // New Year Holidays
    (2040, 1, 3), // New Year Holidays
    (2040, 1, 4), // New Year Holidays
    (2040, 1, 5), // New Year Holidays
    (2040, 1, 6), // New Year Holidays
    (2040, 1, 7), // Christmas Day
    (2040, 1, 8), // New Year Holidays
    (2040, 2, 23), // Fatherland Defender's Day
    (2040, 3, 8), // International Women's Day
    (2040, 5, 1), // Holiday of Spring and Labor
    (2040, 5, 9), // Victory Day
    (2040, 6, 12), // Russia Day
    (2040, 11, 4), // Unity Day
];
