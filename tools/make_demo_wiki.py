"""Writes configs/data/demowiki.xml: the demo's small MediaWiki export-0.11 file.

Every article here was written for wiki_qa (no text is copied from any wiki). It exercises what real
dumps hold: templates, refs, tables, File:/Image: links, categories, interlanguage links, redirects, a
disambiguation page, a Talk page, a Template and a File page, and Yoruba and Hausa text.
Run from the repo root: python tools/make_demo_wiki.py
"""
import html

pages = []
def page(pid, title, ns, text, redirect=None, ts="2026-03-01T10:00:00Z"):
    pages.append((pid, title, ns, text, redirect, ts))

page(1, "Lagos", 0, """{{Infobox settlement
| name = Lagos
| country = Nigeria
| population = 15,000,000
}}
'''Lagos''' is the largest city in [[Nigeria]] and one of the fastest growing cities in [[Africa]].<ref>{{cite web |title=Population of Lagos |publisher=Demo Statistics Office}}</ref> It sits on a chain of islands and lagoons along the coast of the [[Gulf of Guinea]], and its port handles much of the country's trade.

[[File:Lagos skyline.jpg|thumb|250px|The skyline of Lagos Island seen from the lagoon]]

== History ==
The area was settled by [[Yoruba people|Yoruba]] fishing communities long before European traders arrived. The name ''Lagos'' comes from the Portuguese word for lakes. From 1914 the city was the capital of colonial Nigeria, and it remained the federal capital until the government moved to [[Abuja]] in 1991.<ref name="capital">The move was announced in 1976 and completed in 1991.</ref>

== Economy ==
Lagos is the commercial centre of Nigeria. Banking, shipping, music and film all have their main offices here, and the markets of the city are known across West Africa.

{| class="wikitable"
|-
! Area !! Known for
|-
| Lagos Island || banks and the old markets
|-
| Ikeja || the state government and the airport
|-
| Lekki || new housing and beaches
|}

== References ==
{{reflist}}

[[Category:Cities in Nigeria]]
[[Category:Port cities]]
[[yo:Èkó]]
[[ha:Lagos]]""")

page(2, "Lagos City", 0, "#REDIRECT [[Lagos]]", redirect="Lagos")

page(3, "Yoruba language", 0, """{{Infobox language|name=Yoruba|native=Èdè Yorùbá}}
'''Yoruba''' (''Èdè Yorùbá'') is a [[Niger–Congo languages|Niger–Congo language]] spoken by more than forty million people, mainly in south-western [[Nigeria]], [[Benin]] and [[Togo]].<ref>Speaker numbers vary between surveys.</ref>

== Sounds and writing ==
Yoruba is a tonal language with three level tones: high, mid and low. The standard spelling uses the Latin alphabet with dots under some letters, such as ẹ, ọ and ṣ, and accents mark the tones, as in ''ọmọ'' (child) and ''ilé'' (house).

== Greetings ==
Greetings are an important part of daily life. A speaker says ''Ẹ kú àárọ̀'' in the morning and ''Ẹ kú alẹ́'' in the evening. The plural form ''ẹ'' is used to show respect to an elder.

[[File:Yoruba map.png|thumb|left|Where Yoruba is spoken]]
[[Category:Languages of Nigeria]]
[[Category:Tonal languages]]""")

page(4, "Èdè Yorùbá", 0, """'''Èdè Yorùbá''' jẹ́ ọ̀kan lára àwọn èdè tí wọ́n ń sọ ní ilẹ̀ [[Nàìjíríà]], [[Bẹ̀nẹ̀]] àti [[Tógò]]. Ọ̀pọ̀lọpọ̀ ènìyàn ló ń sọ èdè yìí nílé àti lọ́jà.

== Ìtàn ==
Èdè Yorùbá ní ìtàn gígùn. Àwọn àgbà máa ń pa òwe àti àlọ́ fún àwọn ọmọdé ní alẹ́, wọ́n sì ń kọ orin nígbà ayẹyẹ.

== Ìkíni ==
Ẹ kú àárọ̀ ni a máa ń kí ènìyàn ní òwúrọ̀. Ẹ kú ọ̀sán ni a ń sọ ní ọ̀sán, ẹ kú alẹ́ sì ni ti alẹ́. Ọmọdé máa ń dọ̀bálẹ̀ tàbí kúnlẹ̀ láti kí àgbà.

[[Category:Yoruba]]
[[en:Yoruba language]]""")

page(5, "Tea", 0, """'''Tea''' is a drink made by pouring hot water over the cured leaves of the ''[[Camellia sinensis]]'' plant.<ref>Herbal drinks are often called tea, but they do not contain tea leaves.</ref> After water, it is the most widely drunk beverage in the world.

== Kinds of tea ==
The main kinds differ in how the leaves are processed after picking:
* '''Green tea''' is heated soon after picking, which keeps its colour.
* '''Black tea''' is left to oxidise fully, which gives a darker, stronger drink.
* '''Oolong''' is partly oxidised and sits between the two.

== Growing ==
Tea grows best in warm places with plenty of rain, often on hillsides. Large estates are found in [[China]], [[India]], [[Sri Lanka]] and [[Kenya]]. Pickers usually take only the top two leaves and a bud from each shoot.<!-- the two-leaves rule is common but not universal -->

{{Commons category|Tea}}
[[Category:Drinks]]""")

page(6, "Talk:Tea", 1, """== Caffeine section ==
Should we add a section on caffeine? ~~~~
:Yes, but keep it short and cite a source. ~~~~""")

page(7, "Photosynthesis", 0, """{{short description|Process used by plants to turn light into chemical energy}}
'''Photosynthesis''' is the process that [[plant]]s, [[algae]] and some [[bacteria]] use to turn light energy into chemical energy. It takes in carbon dioxide and water and gives off oxygen.<ref>Oxygen is a by-product of splitting water.</ref>

== How it works ==
Light is captured by a green pigment called [[chlorophyll]], found in small bodies called [[chloroplast]]s. The energy is used to split water and to build sugars from carbon dioxide. The overall reaction can be written as:

<math>6CO_2 + 6H_2O \\rightarrow C_6H_{12}O_6 + 6O_2</math>

The sugars made this way feed the plant and, through food chains, almost every animal on land.

== Importance ==
Nearly all the oxygen in the air was made by photosynthesis. Fossil fuels such as coal and oil are the remains of living things that once stored the Sun's energy in this way.

[[Category:Biology]]
[[Category:Plant physiology]]""")

page(8, "Volcano", 0, """'''Volcanoes''' are openings in the crust of a planet where molten rock, ash and gas escape from below the surface.

[[Image:Volcano diagram.svg|thumb|right|300px|Inside a volcano: the magma chamber, the main vent and the crater]]

== Types ==
* '''Shield volcanoes''' have gentle slopes built by runny lava, like those of [[Hawaii]].
* '''Stratovolcanoes''' are steep cones made of layers of lava and ash, like [[Mount Fuji]].
* '''Cinder cones''' are small hills formed by loose fragments thrown out of a vent.

== Eruptions ==
An eruption happens when pressure from gas and magma becomes too great for the rock above to hold. Some eruptions are quiet flows of lava; others are explosive and throw ash high into the sky, where it can travel around the world and cool the climate for a year or more.<ref>Large eruptions put sulphur gases into the upper atmosphere.</ref>

{| class="wikitable"
! Volcano !! Country !! Last eruption
|-
| Mount Cameroon || Cameroon || 2012
|-
| Nyiragongo || DR Congo || 2021
|}

[[Category:Volcanology]]
[[fr:Volcan]]""")

page(9, "Mercury", 0, """'''Mercury''' may mean:
* [[Mercury (planet)]], the planet closest to the Sun
* [[Mercury (element)]], the metal that is liquid at room temperature
* [[Mercury (mythology)]], a Roman god

{{disambiguation}}""")

page(10, "Mercury (planet)", 0, """{{Infobox planet|name=Mercury}}
'''Mercury''' is the smallest planet in the [[Solar System]] and the closest to the [[Sun]]. It goes around the Sun once every 88 Earth days, faster than any other planet.

== Surface ==
Mercury has almost no air, so its surface is covered in craters left by old impacts. Without an atmosphere to hold heat, its day side is hot enough to melt lead while its night side is colder than any place on Earth.

== Exploration ==
Only two spacecraft have visited Mercury: ''Mariner 10'' in the 1970s and ''MESSENGER'', which orbited the planet from 2011 to 2015.<ref>A third mission, BepiColombo, was launched in 2018.</ref> A joint European and Japanese mission is on its way.

[[Category:Planets]]""")

page(11, "Kano", 0, """'''Kano''' birni ne a arewacin [[Najeriya]], kuma yana daya daga cikin tsofaffin birane a yammacin Afirka. An san shi da kasuwar Kurmi da kuma rini na Kofar Mata.<ref>Kasuwar Kurmi ta shahara tun zamanin da.</ref>

'''Kano''' is a city in northern [[Nigeria]] and one of the oldest cities in West Africa. It was an important stop on the trade routes across the [[Sahara]], and its dye pits at Kofar Mata have been used for centuries.

== Trade ==
For hundreds of years merchants brought leather, cloth and salt through Kano. Today the city is a centre of commerce and of the [[Hausa language]].

[[Category:Cities in Nigeria]]""")

page(12, "Template:Infobox settlement", 10, """<includeonly>{| class="infobox"
! {{{name}}}
|}</includeonly><noinclude>Shows facts about a place.</noinclude>""")

page(13, "File:Lagos skyline.jpg", 6, """== Summary ==
A photograph of the Lagos skyline, made for the demo wiki.""")

page(14, "Photo synthesis", 0, "#REDIRECT [[Photosynthesis]]", redirect="Photosynthesis")

page(15, "Harmattan", 0, """'''Harmattan''' is a dry and dusty wind that blows from the [[Sahara]] over [[West Africa]] between the end of November and the middle of March.

== Effects ==
The wind carries fine dust that can hide the sun for days and make the air hazy. Nights become cool while days stay hot, and the very dry air cracks lips and skin. Farmers often wait for the end of the Harmattan before planting.

== Health ==
Doctors see more coughs and eye problems during the season. People cover their faces when they travel, drink more water, and use shea butter on their skin.

[[Category:Winds]]
[[Category:Climate of Africa]]""")

# Articles added for issue 13: more chunks for the demo (its LLM step needs >= 20 good items in three
# splits) and pages the older articles link to, so qa_multihop finds pairs joined by a wikilink.
page(16, "Nigeria", 0, """{{Infobox country|name=Nigeria|capital=Abuja}}
'''Nigeria''' is a country in [[West Africa]] on the [[Gulf of Guinea]]. It has more people than any other country in Africa, and its largest city is [[Lagos]], while the capital is [[Abuja]].

== Geography ==
The [[Niger River]] enters the country from the north-west and meets its largest tributary, the Benue, at the town of Lokoja before flowing south to a wide delta on the coast. The south is warm and wet, with mangrove swamps and rain forest, while the north is drier savanna that borders the [[Sahara]]. In the far north-east the country touches [[Lake Chad]].

== People and languages ==
More than two hundred and fifty ethnic groups live in Nigeria. The largest are the Hausa in the north, the [[Yoruba people|Yoruba]] in the south-west and the Igbo in the south-east. English is the official language, and [[Hausa language|Hausa]], [[Yoruba language|Yoruba]] and Igbo are each spoken by tens of millions of people. Nigerian Pidgin is used across the whole country in markets and in music.

[[Category:Countries in Africa]]""")

page(17, "Abuja", 0, """'''Abuja''' is the capital city of [[Nigeria]]. It was built in the centre of the country during the 1980s and replaced [[Lagos]] as the seat of government in December 1991.

== A planned city ==
The site was chosen because it lies near the middle of Nigeria, on land that no single large ethnic group claimed as its home. Planners laid out wide roads, a central business district and separate areas for government offices. The National Assembly and the presidential villa stand close to Aso Rock, a large granite hill on the eastern edge of the city.

== Growth ==
The city grew quickly once ministries moved there from Lagos. New districts and satellite towns were added to house workers, and by the 2020s the wider area held several million people.

[[Category:Cities in Nigeria]]
[[Category:Planned cities]]""")

page(18, "Niger River", 0, """'''The Niger River''' is the main river of [[West Africa]] and the third longest in Africa, about 4,180 kilometres from source to sea.

== Course ==
The river rises in the Guinea Highlands, only about 250 kilometres from the Atlantic, but first flows north-east, away from the ocean. It passes through Mali, where it spreads into a wide inland delta of lakes and flood plains, then turns south-east through Niger and [[Nigeria]]. At Lokoja it is joined by the Benue River, and it ends in the Niger Delta on the [[Gulf of Guinea]].

== Use ==
Fishing communities live along its banks, farmers plant rice in the flood plains as the water falls each year, and boats carry goods between river towns. The Kainji Dam in Nigeria uses the river to make electricity.

[[Category:Rivers of Africa]]""")

page(19, "Sahara", 0, """'''The Sahara''' is the largest hot desert in the world. It covers most of North Africa, from the Atlantic coast in the west to the Red Sea in the east.

== Climate ==
Most of the Sahara receives less than 100 millimetres of rain in a year. Days can be very hot, but nights are often cold because dry air and clear skies let the heat escape. In winter, dust from the desert is carried south by the [[Harmattan]] wind.

== Trade across the desert ==
For more than a thousand years camel caravans crossed the Sahara. They carried salt from desert mines south to cities such as Timbuktu and [[Kano]], and brought back gold, cloth and leather. Oases, where water reaches the surface, were the resting places of these routes.

[[Category:Deserts]]""")

page(20, "Hausa language", 0, """'''Hausa''' is a Chadic language spoken mainly in northern [[Nigeria]] and southern Niger. It is the first language of many millions of people and a second language for millions more, which makes it one of the most widely spoken languages of Africa.

== Writing ==
Hausa has been written in two scripts. The older one, called Ajami, uses Arabic letters and was used by scholars and traders for centuries. Today most books, newspapers and school texts use a Latin alphabet known as Boko, which adds a few letters such as ɓ and ɗ for sounds that English does not have.

== A language of trade ==
Because Hausa merchants travelled widely, the language spread along the trade routes of West Africa. In markets from [[Kano]] to Accra, traders who speak different first languages often use Hausa with each other.

[[Category:Languages of Nigeria]]""")

page(21, "Sun", 0, """'''The Sun''' is the star at the centre of the [[Solar System]]. It is a huge ball of hot gas, mostly hydrogen and helium, and it holds the planets in their orbits with its gravity.

== Energy ==
Deep in its core, the Sun joins hydrogen nuclei together to make helium, which releases a great amount of energy. That energy takes many thousands of years to work its way to the surface, and then only about eight minutes to travel as light to Earth. Plants capture part of this light through [[photosynthesis]].

== Size ==
The Sun is about 109 times as wide as Earth, and it holds more than 99 percent of all the mass in the Solar System. [[Mercury (planet)|Mercury]] is the planet that orbits closest to it.

[[Category:Stars]]""")

page(22, "Solar System", 0, """'''The Solar System''' is the [[Sun]] and everything that travels around it: eight planets, their moons, dwarf planets such as Pluto, and countless asteroids and comets.

== Planets ==
The four inner planets, [[Mercury (planet)|Mercury]], Venus, Earth and Mars, are small and made of rock and metal. The four outer planets are much larger. Jupiter and Saturn are gas giants made mostly of hydrogen and helium, while Uranus and Neptune contain more ice and are called ice giants.

== Belts of small bodies ==
Between Mars and Jupiter lies the asteroid belt, a wide ring of rocky pieces left over from when the planets formed. Far beyond Neptune is the Kuiper belt, home to Pluto and many other icy worlds.

[[Category:Astronomy]]""")

page(23, "Chlorophyll", 0, """'''Chlorophyll''' is the green pigment that lets plants, algae and some bacteria take in light for [[photosynthesis]]. It is found in the chloroplasts of leaf cells.

== How it works ==
Chlorophyll absorbs red and blue light strongly but reflects green light, which is why leaves look green. At the centre of each chlorophyll molecule sits a single atom of magnesium, surrounded by a ring of carbon and nitrogen atoms.

== Autumn colours ==
In places with cold winters, many trees stop making chlorophyll in autumn. As the green pigment breaks down, yellow and orange pigments that were hidden in the leaf become visible.

[[Category:Biology]]""")

page(24, "Mount Cameroon", 0, """'''Mount Cameroon''' is an active [[Volcano|volcano]] in the south-west of Cameroon, close to the coast of the [[Gulf of Guinea]]. At a little over 4,000 metres it is the highest mountain in West and Central Africa.

== Eruptions ==
It is one of the most active volcanoes in Africa. Lava flows in 1999 came close to the sea and cut a coastal road, and a smaller eruption took place in 2012.

== Climate and life ==
The western side of the mountain faces winds from the ocean and is one of the wettest places on Earth, with several metres of rain each year. Its lower slopes are covered in rain forest, while grassland grows near the cold summit.

[[Category:Volcanoes of Africa]]""")

page(25, "Kenya", 0, """'''Kenya''' is a country in East Africa on the coast of the Indian Ocean. Its capital and largest city is Nairobi.

== Land ==
The Great Rift Valley runs through the west of the country from north to south. Mount Kenya, an old volcano, is the highest point, and its top keeps small glaciers even though it lies almost on the equator. Wide grasslands in the south are home to lions, elephants and herds of wildebeest.

== Farming ==
Farming employs many Kenyans. The cool, rainy highlands are well suited to [[tea]], and Kenya is one of the largest exporters of black tea in the world. Coffee, flowers and vegetables are also grown for sale abroad.

[[Category:Countries in Africa]]""")

page(26, "Gulf of Guinea", 0, """'''The Gulf of Guinea''' is the part of the Atlantic Ocean that lies off the south-facing coast of West and Central Africa, from Liberia in the west to Gabon in the south.

== Rivers and ports ==
Several large rivers flow into the gulf, among them the [[Niger River|Niger]] and the Volta. Busy ports line its coast, including [[Lagos]] in Nigeria, Tema in Ghana and Douala in Cameroon.

== Resources ==
Rich fishing grounds lie along the coast, and large fields of oil and gas have been found under the sea floor, especially off the Niger Delta.

[[Category:Gulfs of the Atlantic Ocean]]""")

page(27, "Lake Chad", 0, """'''Lake Chad''' is a large, shallow lake in central Africa, on the border of Chad, Cameroon, Niger and [[Nigeria]].

== A shrinking lake ==
The lake's size changes with the rains, but it has become much smaller since the 1960s. Long droughts and the use of river water for farming mean less water reaches it, and in dry years the open water covers only a small part of the area it once did.

== Life around the lake ==
Millions of people depend on the lake for fishing, farming and raising cattle. When the water goes down, farmers plant crops on the newly uncovered land.

[[Category:Lakes of Africa]]""")

page(28, "Yoruba people", 0, """'''The Yoruba''' are one of the largest ethnic groups in West Africa. Most live in south-western [[Nigeria]], and smaller communities live in Benin and Togo.

== Cities ==
The Yoruba have a long history of city life. Ile-Ife is regarded as the place where the Yoruba people began, and Oyo was the capital of a powerful kingdom. Ibadan and [[Lagos]] are among the largest cities in the Yoruba-speaking region today.

== Culture ==
Yoruba artists are known for bronze and terracotta heads made at Ife many centuries ago. Talking drums, whose pitch can copy the tones of the [[Yoruba language]], are played at festivals and ceremonies.

[[Category:Ethnic groups in Nigeria]]""")

out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.mediawiki.org/xml/export-0.11/ http://www.mediawiki.org/xml/export-0.11.xsd" version="0.11" xml:lang="en">',
'  <siteinfo>', '    <sitename>Demo Wiki</sitename>', '    <dbname>demowiki</dbname>',
'    <base>https://demo.wiki-qa.invalid/wiki/Main_Page</base>', '    <generator>MediaWiki 1.43.0</generator>',
'    <case>first-letter</case>', '    <namespaces>']
ns = {-2: "Media", -1: "Special", 0: "", 1: "Talk", 2: "User", 3: "User talk", 4: "Demo Wiki", 5: "Demo Wiki talk",
      6: "File", 7: "File talk", 8: "MediaWiki", 9: "MediaWiki talk", 10: "Template", 11: "Template talk",
      12: "Help", 13: "Help talk", 14: "Category", 15: "Category talk"}
for k, v in ns.items():
    out.append(f'      <namespace key="{k}" case="first-letter">{v}</namespace>' if v else f'      <namespace key="{k}" case="first-letter" />')
out += ['    </namespaces>', '  </siteinfo>']
for i, (pid, title, n, text, redirect, ts) in enumerate(pages):
    out += ['  <page>', f'    <title>{html.escape(title, quote=False)}</title>', f'    <ns>{n}</ns>', f'    <id>{pid}</id>']
    if redirect:
        out.append(f'    <redirect title="{html.escape(redirect)}" />')
    b = len(text.encode())
    out += ['    <revision>', f'      <id>{1000 + pid}</id>', f'      <timestamp>{ts}</timestamp>',
            '      <contributor>', '        <username>WikiQA Demo</username>', '        <id>1</id>', '      </contributor>',
            '      <model>wikitext</model>', '      <format>text/x-wiki</format>',
            f'      <text bytes="{b}" xml:space="preserve">{html.escape(text, quote=False)}</text>',
            '    </revision>', '  </page>']
out.append('</mediawiki>')
open('configs/data/demowiki.xml', 'w', encoding='utf-8').write("\n".join(out) + "\n")
