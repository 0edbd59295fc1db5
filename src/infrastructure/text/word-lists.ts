import { porterStem } from './stemmer.js';

/** English function words: no evidence of topic (weight 0 unless a text has nothing else). */
export const STOPWORDS: ReadonlySet<string> = new Set(
  `a about above after again against all am an and any are aren't as at be because been before being below
  between both but by can cannot could did do does doing down during each few for from further had has have
  having he her here hers herself him himself his how i if in into is isn't it it's its itself let me more most
  my myself no nor not of off on once only or other ought our ours ourselves out over own same she should so
  some such than that the their theirs them themselves then there these they this those through to too under
  until up very was we were what when where which while who whom why with would you your yours yourself
  yourselves also whether upon via per within without among amongst whereas thus hence however therefore
  moreover furthermore yet may might must shall will can't don't doesn't didn't won't wouldn't shouldn't
  couldn't s t d ll m re ve y etc eg ie et al vs`
    .split(/\s+/)
    .filter((w) => w.length > 0),
);

/** Frequent general and academic words: weak evidence of topic (down-weighted, not removed). */
const COMMON_WORDS = `able according across actually addition additional affect affected again age ago ahead
  aim aimed aims allow allowed allows almost alone along already although always analysis analyse analyze
  analysed analyzed another answer anyone anything appear appeared appears apply applied approach approaches
  appropriate approximately area areas around ask asked assess assessed associated association available
  average away back background base based basis become becomes began begin beginning behind believe best
  better beyond big bring brought call called came carried carry case cases cause caused causes certain
  change changed changes characteristic characteristics clear clearly close come comes common commonly
  compare compared comparison complete completed conclude concluded conclusion conclusions condition
  conditions conduct conducted confirm confirmed consider considered consistent contain contained contains
  context contrast contribute control controlled controls correspond corresponding could current currently
  data day days decrease decreased decreases define defined demonstrate demonstrated demonstrates describe
  described design designed despite detail detailed details determine determined develop developed
  development difference differences different directly discuss discussed due early effect effective
  effects either else end enough entire especially establish established estimate estimated evaluate
  evaluated even evidence exactly example examine examined except exist existing expect expected explain
  explained express extent fact factor factors far feature features find finding findings first five follow
  followed following form found four full fully function general generally get give given gives go goal
  going good great greater group groups growing half happen hard help high higher highest highly hold
  identified identify important importance improve improved include included includes including increase
  increased increases increasing indeed indicate indicated indicates individual information instead
  interest investigate investigated involve involved issue issues keep kind know known large larger largely
  last later lead leading least less level levels like likely limited line little long longer look low lower
  made main mainly major make makes making many mean means measure measured measures method methods might
  mostly much need needed new next nine non none note noted number numbers objective observe observed obtain
  obtained occur occurred often old one ones open order others otherwise outcome outcomes overall part
  particular particularly parts past people perform performed perhaps period place play plays point points
  possible potential potentially present presented previous previously primary probably problem problems
  process produce produced provide provided provides purpose put quite range rather rate rates reach real
  really reason recent recently reduce reduced related relative relatively remain remained remains report
  reported reports require required requires research result resulted results reveal revealed review right
  role run said say second see seem seems seen set seven several show showed shown shows side significant
  significantly similar similarly simple since single six small so some something sometimes specific
  specifically start state states still strong strongly studied studies study subsequent subsequently
  suggest suggested suggests support supported sure system systems take taken taking ten term terms test
  tested tests three thought time times today together took total toward towards true try turn two type
  types typically understand understanding unknown use used useful uses using usually value values various
  way ways well went whole wide widely work worked working works year years young`;
/** The Porter stems of COMMON_WORDS (a text's words are compared by stem). */
export const COMMON_STEMS: ReadonlySet<string> = new Set(
  COMMON_WORDS.split(/\s+/)
    .filter((w) => w.length > 0)
    .map((w) => porterStem(w)),
);
