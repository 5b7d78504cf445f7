"""Writes configs/data/demowiki.xml: the demo's small MediaWiki export-0.11 file.

Every article here was written for wiki_qa (no text is copied from any wiki). It exercises what real
dumps hold: templates, refs, tables, File:/Image: links, categories, interlanguage links, redirects, a
disambiguation page, a Talk page, a Template and a File page, and Yoruba and Hausa text.
Run from the repo root: python tools/make_demo_wiki.py
"""
import html, datetime
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
